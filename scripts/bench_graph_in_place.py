"""Inference with and without the in-place activations of models/graph.py, in one process, interleaved.

MobileNetV2 (``ReLU(6.)``) and ResNet50 (``Activation('relu')``) ``predict`` at batch 32 with every step's
``in_place`` flag as the plan set it, then with all flags off (the out-of-place path), and torchvision's
``mobilenet_v2`` in ``channels_last`` under ``no_grad`` for scale. Prints the median images/s and the spread.

    python scripts/bench_graph_in_place.py                       # 224x224, 64 images, 5 repeats
    python scripts/bench_graph_in_place.py --size 32 --images 8 --repeats 1   # a quick check that it runs
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from kerasish.applications import MobileNetV2, ResNet50


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def with_in_place(model, enabled: bool):
    planned = [step.in_place for step in model._plan.steps]

    def run(x):
        for step, flag in zip(model._plan.steps, planned):
            step.in_place = flag and enabled
        try:
            return model.predict(x, batch_size=32)
        finally:
            for step, flag in zip(model._plan.steps, planned):
                step.in_place = flag
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="MobileNetV2,ResNet50")
    args = parser.parse_args()
    import torchvision
    x = np.random.RandomState(0).uniform(-1, 1, (args.images, args.size, args.size, 3)).astype("float32")
    x_torch = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    for name in args.models.split(","):
        model = {"MobileNetV2": MobileNetV2, "ResNet50": ResNet50}[name](weights=None,
                                                                           input_shape=(args.size, args.size, 3))
        net = {"MobileNetV2": torchvision.models.mobilenet_v2, "ResNet50": torchvision.models.resnet50}[name](
            weights=None).eval().to(memory_format=torch.channels_last)

        def torchvision_predict():
            with torch.no_grad():
                torch.cat([net(x_torch[i:i + 32]) for i in range(0, len(x_torch), 32)]).numpy()

        sides = {"in place": lambda: with_in_place(model, True)(x),
                 "out of place": lambda: with_in_place(model, False)(x),
                 "torchvision channels_last": torchvision_predict}
        for fn in sides.values():
            fn()  # warm-up
        times = {side: [] for side in sides}
        for _ in range(args.repeats):
            for side, fn in sides.items():
                times[side].append(timed(fn))
        for side, t in times.items():
            rates = sorted(args.images / s for s in t)
            print(f"{name} {args.size}x{args.size} {side:<26} median {statistics.median(rates):7.1f} images/s "
                  f"(min {rates[0]:.1f}, max {rates[-1]:.1f}, {args.repeats} repeats)")


if __name__ == "__main__":
    main()
