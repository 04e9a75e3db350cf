"""kerasish benchmark suite: one command, one table, optional JSON.

    python scripts/bench.py                   # everything (several minutes on 2 CPU cores; fit alone ~1.5)
    python scripts/bench.py --json bench.json # also write the rows as JSON
    python scripts/bench.py --only fit        # one group: fit, functional, augment, generator, memory, text, rnn,
                                              # applications

Every comparison runs in this process, interleaved (A, B, C, then C, B, A, ...), and reports medians, so a
change in machine load hits all sides alike. Rows:

* fit: samples/s of kerasish ``fit`` vs a hand-written PyTorch loop (same model and data, on-device loss/accuracy)
  whose optimizer runs torch's fastest path for the device (``fused=True`` where torch has the kernel, else
  ``foreach=True``), and, when installed, Keras 3 with the torch backend (``pip install keras``), for the
  784-256-256-10 MLP and a small CNN at batch 128, 32 and 8. Each configuration has three rows (bench_fit.py):
  Adam against that loop, Adam against the loop with torch's default ``torch.optim.Adam``, and
  ``SGD(momentum=0.9)`` on both sides (the cheapest update, so the loop's own overhead shows);
* functional: the fit MLP and CNN built with the functional API against the same Sequential, and a small
  residual network (Conv2D/BatchNormalization/``add`` blocks) against the same hand-written ``nn.Module`` with
  torch's fastest Adam (bench_functional.py);
* augment: images/s of ``ImageDataGenerator.flow`` batches (32x32x3, the classic parameter set) in kerasish
  vs keras-preprocessing 1.1.2 (``pip install keras-preprocessing==1.1.2``) when installed;
* generator: epoch time of ``fit_generator`` with augmentation vs plain ``fit`` on the same data and model
  (32x32 and 64x64 images), and of ``flow_from_directory`` with its images decoded by loader threads vs by the
  training thread;
* memory: growth of the process's private memory (RssAnon) during ``fit`` on a memory-mapped array of over
  1 GB (the map's file pages are not private memory);
* text: time of ``Tokenizer.sequences_to_matrix`` ('binary' and 'tfidf', 10,000-word vocabulary) vs
  keras-preprocessing 1.1.2 when installed (bench_text.py; ratio = time ratio).
* rnn: samples/s of imdb-like text models (Embedding -> LSTM, GRU, Bidirectional(LSTM) or CuDNNLSTM -> Dense,
  80 and 200 tokens, batch 32 and 128) against hand-written loops over nn.Embedding + nn.LSTM / nn.GRU /
  nn.LSTM(bidirectional=True) (bench_rnn.py).
* torchdata: samples/s of ``fit(DataLoader(TensorDataset))`` against a hand-written loop over the same DataLoader,
  and of ``fit(Dataset)`` (with and without ``__getitems__``) against kerasish's own array path
  (bench_torchdata.py, where the gap is explained).
* applications: images/s of ``predict`` for MobileNetV2 and ResNet50 (224x224, batch 32) and of ``fit`` for a frozen
  MobileNetV2 base + Dense head, against the same torchvision models run by hand-written loops
  (bench_applications.py; ``KERASISH_BENCH_APPLICATIONS_SIZE=32 KERASISH_BENCH_APPLICATIONS_IMAGES=8`` for a quick
  check that the rows run).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "torch")  # for the Keras 3 comparison, before anything imports keras

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_fit import CONFIGS, compare_fit, paired_ratio, ratio_rows, run_interleaved  # noqa: E402
from bench_functional import functional_rows  # noqa: E402
from bench_text import bench_sequences_to_matrix  # noqa: E402
from bench_rnn import rnn_rows  # noqa: E402
from bench_torchdata import torchdata_rows  # noqa: E402
from bench_applications import applications_rows  # noqa: E402

from kerasish import backend  # noqa: E402

AUGMENTATION = dict(rotation_range=30, zoom_range=0.20, fill_mode="nearest", shear_range=0.20,
                    horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1)


def median_rate(times, n):
    return n / statistics.median(times)


# ---------------------------------------------------------------------------- fit
def keras3_runner(kind, x_np, y_np, batch_size):
    """A runner fitting the same model in Keras 3 with the torch backend, or None where it is not installed."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    layers = keras.layers
    if kind == "mlp":
        model = keras.Sequential([keras.Input((784,)), layers.Dense(256, activation="relu"),
                                  layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
    else:
        model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu"),
                                  layers.MaxPooling2D(), layers.Flatten(), layers.Dense(128, activation="relu"),
                                  layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return lambda r: model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0)


def bench_fit(kind, batch_size, n, repeats):
    """bench_fit.py's three comparisons of one configuration (fastest-path Adam, torch's default Adam, SGD with
    momentum), with Keras 3 (Adam) next to the first where it is installed."""
    result = compare_fit(kind, batch_size, n, repeats, extra_runners={"keras3": keras3_runner})
    rows = ratio_rows(result)
    for row in rows:
        row["group"] = "fit"
    if "keras3" in result["rates"]:
        rows[0]["keras3"] = result["rates"]["keras3"]
        rows[0]["vs_keras3"] = paired_ratio(result["times"], "kerasish Adam", "keras3")
    return rows


# ---------------------------------------------------------------------------- augmentation
def bench_augment(repeats):
    """bench_augment.py's measurement with its defaults (uint8 CIFAR-sized images, each batch dropped, as a training
    loop does), as one row: kerasish ``next()`` (NumPy batches, the slower of its two rows) vs Keras."""
    from bench_augment import bench_augmentation
    result = bench_augmentation(max(repeats, 7), batches=300, keras_batches=30, batch_size=32, size=32)
    rates = result["images_per_second"]
    row = {"group": "augment", "benchmark": "flow() 32x32x3, rotation/zoom/shear/shift/flip", "unit": "images/s",
           "kerasish": rates["kerasish next()"]}
    if "keras-preprocessing 1.1.2" in rates:
        row.update(baseline=rates["keras-preprocessing 1.1.2"], baseline_name="keras-preprocessing 1.1.2",
                   ratio=result["ratio_to_keras"]["kerasish next()"])
    return row


def bench_generator(repeats, size=32):
    """Epoch time of fit_generator with augmentation against plain fit, same model and data (1024 images of
    ``size`` x ``size`` x 3)."""
    from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from kerasish.models import Sequential
    from kerasish.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(0)
    x, y = rng.rand(1024, size, size, 3).astype("float32"), rng.randint(0, 10, 1024)
    model = Sequential([Conv2D(16, (3, 3), activation="relu", input_shape=(size, size, 3)), MaxPooling2D(),
                        Conv2D(32, (3, 3), activation="relu"), MaxPooling2D(), Flatten(),
                        Dense(64, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    flow = ImageDataGenerator(**AUGMENTATION).flow(x, y, batch_size=32, seed=0)
    runners = {
        "fit": lambda r: model.fit(x, y, batch_size=32, epochs=1, verbose=0),
        "fit_generator": lambda r: model.fit_generator(flow, steps_per_epoch=len(x) // 32, epochs=1, verbose=0),
    }
    times = run_interleaved(runners, repeats)
    fit_s, gen_s = statistics.median(times["fit"]), statistics.median(times["fit_generator"])
    return {"group": "generator",
            "benchmark": f"epoch time, fit_generator+augmentation vs fit ({size}x{size} CNN)",
            "unit": "s/epoch", "kerasish": gen_s, "baseline": fit_s, "baseline_name": "plain fit",
            "ratio": gen_s / fit_s}


def bench_directory_loading(repeats):
    """flow_from_directory epoch time with images decoded by 2 loader threads (``workers=2``) against decoding
    in the training thread (``workers=0``): 256 JPEG files of 160x160 resized to 64x64, augmented."""
    from PIL import Image
    from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from kerasish.models import Sequential
    from kerasish.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(0)
    with tempfile.TemporaryDirectory() as root:
        for label in ("a", "b"):
            os.makedirs(os.path.join(root, label))
            for i in range(128):
                pixels = rng.randint(0, 256, (160, 160, 3)).astype(np.uint8)
                Image.fromarray(pixels).save(os.path.join(root, label, f"{i}.jpg"), quality=90)
        model = Sequential([Conv2D(16, (3, 3), activation="relu", input_shape=(64, 64, 3)), MaxPooling2D(),
                            Conv2D(32, (3, 3), activation="relu"), MaxPooling2D(), Flatten(),
                            Dense(64, activation="relu"), Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        flow = ImageDataGenerator(rescale=1 / 255.0, **AUGMENTATION).flow_from_directory(
            root, target_size=(64, 64), batch_size=32, seed=0)
        runners = {workers: (lambda r, w=workers: model.fit_generator(flow, epochs=1, verbose=0, workers=w))
                   for workers in (0, 2)}
        times = run_interleaved(runners, repeats)
    main_s, threads_s = statistics.median(times[0]), statistics.median(times[2])
    return {"group": "generator", "benchmark": "flow_from_directory epoch, workers=2 vs workers=0 (decoding)",
            "unit": "s/epoch", "kerasish": threads_s, "baseline": main_s, "baseline_name": "workers=0",
            "ratio": threads_s / main_s}


# ---------------------------------------------------------------------------- memory
def rss_anon_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_memory(gigabytes: float):
    from kerasish.layers import Dense
    from kerasish.models import Sequential
    rows = int(gigabytes * 1024 ** 3 / (784 * 4)) + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.npy")
        mapped = np.lib.format.open_memmap(path, mode="w+", dtype="float32", shape=(rows, 784))
        rng = np.random.RandomState(0)
        for start in range(0, rows, 65536):  # fill in chunks, never the whole array in memory
            stop = min(rows, start + 65536)
            mapped[start:stop] = rng.rand(stop - start, 784)
        mapped.flush()
        del mapped
        x = np.load(path, mmap_mode="r")
        y = rng.randint(0, 10, rows)
        model = Sequential([Dense(64, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        before = rss_anon_mb()
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_anon_mb())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        model.fit(x, y, batch_size=256, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        size_gb = os.path.getsize(path) / 1024 ** 3
    return {"group": "memory", "benchmark": f"fit on a {size_gb:.2f} GB memory-mapped array", "unit": "MB RssAnon growth",
            "kerasish": peak[0] - before, "seconds": seconds}


# ---------------------------------------------------------------------------- table
def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def print_table(rows):
    print(f"device: {backend.get_device()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    header = f"{'benchmark':<58} {'unit':<18} {'kerasish':>10} {'baseline':>10} {'ratio':>6}  {'Keras 3':>8} {'x K3':>5}"
    print(header)
    print("-" * len(header))
    for row in rows:
        baseline = f"{number(row['baseline']):>10}" if "baseline" in row else f"{'-':>10}"
        ratio = f"{row['ratio']:>6.2f}" if "ratio" in row else f"{'-':>6}"
        k3 = f"{row['keras3']:>8,.0f} {row['vs_keras3']:>5.2f}" if "keras3" in row else f"{'-':>8} {'-':>5}"
        print(f"{row['benchmark']:<58} {row['unit']:<18} {number(row['kerasish']):>10} {baseline} {ratio}  {k3}")
    print("baselines: fit = hand-written PyTorch loop (fastest torch optimizer path unless the row says default); "
          "functional = the same Sequential, or the same hand-written nn.Module (residual net); augment = "
          "keras-preprocessing 1.1.2; generator = plain fit (ratio = time ratio); text = keras-preprocessing 1.1.2 "
          "(ratio = time ratio); rnn = hand-written loop over "
          "nn.Embedding + nn.LSTM / nn.GRU; applications = the same torchvision model, hand-written loop")
    fit_baselines = sorted({row["baseline_name"] for row in rows if row["group"] == "fit"})
    if fit_baselines:
        print("fit baselines: " + "; ".join(fit_baselines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["fit", "functional", "augment", "generator", "memory", "text", "rnn",
                                           "torchdata", "applications"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-gb", type=float, default=1.1)
    parser.add_argument("--json")
    opts = parser.parse_args()
    torch.manual_seed(0)
    # functional last: its CNNs leave the allocator in a state that slows the augmentation kernels right after
    groups = [opts.only] if opts.only else ["fit", "augment", "generator", "memory", "functional", "text", "rnn",
                                            "torchdata", "applications"]
    rows = []
    if "fit" in groups:
        for kind, batch_size, n in CONFIGS:
            rows += bench_fit(kind, batch_size, n, opts.repeats)
    if "augment" in groups:
        rows.append(bench_augment(opts.repeats))
    if "generator" in groups:
        rows += [bench_generator(opts.repeats, size=32), bench_generator(opts.repeats, size=64),
                 bench_directory_loading(opts.repeats)]
    if "memory" in groups:
        rows.append(bench_memory(opts.memory_gb))
    if "functional" in groups:
        rows += functional_rows(opts.repeats)
    if "text" in groups:
        rows += bench_sequences_to_matrix(opts.repeats)
    if "rnn" in groups:
        rows += rnn_rows(opts.repeats)
    if "torchdata" in groups:
        rows += torchdata_rows(opts.repeats)
    if "applications" in groups:
        rows += applications_rows(opts.repeats)
    print_table(rows)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
