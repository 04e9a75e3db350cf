"""Images/second of ``ImageDataGenerator.flow()`` batches: kerasish next to keras-preprocessing 1.1.2.

The issue's parameter set (rotation 30, zoom 0.2, fill 'nearest', shear 0.2, horizontal flip, width and height
shift 0.1) on 32x32x3 uint8 images in batches of 32. Both sides are timed in the same process, interleaved
(keras-preprocessing, kerasish, keras-preprocessing, ...), and the median of the repeats is reported, so a
change in machine load hits both alike. Two kerasish rows: ``next(it)`` (NumPy batches, what a script that
loops over the iterator gets) and ``it.batch_tensors(i, device)`` (what fit/fit_generator use: tensors on the
training device).

    python scripts/bench_augment.py                  # the table
    python scripts/bench_augment.py --json out.json  # also write it as JSON
    python scripts/bench_augment.py --threads 1      # torch intra-op threads (default: torch's own choice)

The load average is printed with the results: compare ratios taken on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import statistics
import time

import numpy as np
import torch

from kerasish import backend
from kerasish.preprocessing.image import ImageDataGenerator

AUGMENTATION = dict(rotation_range=30, zoom_range=0.20, fill_mode="nearest", shear_range=0.20, horizontal_flip=True,
                    width_shift_range=0.1, height_shift_range=0.1)


# ---------------------------------------------------------------------------- augmentation throughput
def images_per_second(next_batch, batches: int, batch_size: int) -> float:
    next_batch()  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(batches):
        next_batch()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return batches * batch_size / (time.perf_counter() - start)


def bench_augmentation(repeats: int, batches: int, keras_batches: int, batch_size: int, size: int) -> dict:
    """Median images/second of each side over ``repeats`` interleaved runs."""
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (1024, size, size, 3)).astype(np.uint8)
    y = rng.randint(0, 10, 1024)
    ours = ImageDataGenerator(**AUGMENTATION).flow(x, y, batch_size=batch_size, seed=1)
    # What fit/fit_generator do: batches 0 .. len-1 of an epoch, then on_epoch_end (new order, new parameters).
    epochs = ImageDataGenerator(**AUGMENTATION).flow(x, y, batch_size=batch_size, seed=1)
    device = backend.get_device()
    counter = iter(range(10**9))

    def device_batch():
        index = next(counter) % len(epochs)
        batch = epochs.batch_tensors(index, device)
        if index == len(epochs) - 1:
            epochs.on_epoch_end()
        return batch

    sides = {"kerasish next()": lambda: next(ours), f"kerasish batch_tensors({device.type})": device_batch}
    try:
        from keras_preprocessing.image import ImageDataGenerator as KerasImageDataGenerator
        theirs = KerasImageDataGenerator(**AUGMENTATION).flow(x, y, batch_size=batch_size, seed=1)
        sides = {"keras-preprocessing 1.1.2": lambda: next(theirs), **sides}
    except ImportError:
        print("keras-preprocessing is not installed: kerasish only (pip install keras-preprocessing==1.1.2)")
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, next_batch in sides.items():
            count = keras_batches if name.startswith("keras-") else batches
            rates[name].append(images_per_second(next_batch, count, batch_size))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    result = {"batch_size": batch_size, "image_shape": [size, size, 3], "augmentation": AUGMENTATION,
              "repeats": repeats, "images_per_second": medians, "runs": rates}
    if "keras-preprocessing 1.1.2" in medians:
        base = medians["keras-preprocessing 1.1.2"]
        result["ratio_to_keras"] = {name: value / base for name, value in medians.items()
                                    if name != "keras-preprocessing 1.1.2"}
    return result


def print_augmentation(result: dict) -> None:
    print(f"flow() batches of {result['batch_size']} x {'x'.join(map(str, result['image_shape']))}, "
          f"median of {result['repeats']} interleaved runs")
    ratios = result.get("ratio_to_keras", {})
    for name, value in result["images_per_second"].items():
        ratio = f"{ratios[name]:6.1f}x" if name in ratios and not name.startswith("keras-") else ""
        print(f"  {name:<34s} {value:>10,.0f} images/s  {ratio}")


# ---------------------------------------------------------------------------- fit_generator against fit
def bench_fit_generator(repeats: int) -> dict:
    """Epoch time of fit_generator with this augmentation next to plain fit (same model and data): bench.py's."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench import bench_generator
    return bench_generator(repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", type=int, default=300, help="kerasish batches per run")
    parser.add_argument("--keras-batches", type=int, default=30, help="keras-preprocessing batches per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", type=int, default=32, help="image height and width")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: unchanged)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    augmentation = bench_augmentation(args.repeats, args.batches, args.keras_batches, args.batch_size, args.size)
    context = {"torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
               "device": str(backend.get_device()), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
               "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    # Other processes on the machine matter: with OpenMP's default (spinning) wait policy, a torch thread that
    # loses its core stalls every parallel region; OMP_WAIT_POLICY=PASSIVE avoids most of that.
    print(f"torch threads {context['torch_threads']}, {context['cpu_count']} CPUs, device {context['device']}, "
          f"OMP_WAIT_POLICY={context['omp_wait_policy']}, "
          f"load average {load_before:.2f} -> {context['load_average_after']:.2f}")
    print_augmentation(augmentation)
    generator = bench_fit_generator(max(3, args.repeats // 2))
    print(f"fit_generator with augmentation: {generator['kerasish']:.3f} s/epoch; plain fit: "
          f"{generator['baseline']:.3f} s/epoch; ratio {generator['ratio']:.2f} (target <= 1.3)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "augmentation": augmentation, "fit_generator": generator}, f, indent=2)


if __name__ == "__main__":
    main()
