"""Graph models cost no more than Sequential ones, and a residual network trains as fast as hand-written torch.

* the benchmark MLP and CNN of ``bench_fit.py`` built with the functional API (``Input`` -> layers ->
  ``Model``) against the same ``Sequential``: both kerasish, Adam, interleaved; the ratio is functional /
  Sequential samples per second (target: within 3 %);
* a small residual network (Conv2D / BatchNormalization / ``add`` blocks, global average pooling) built with
  the functional API against the same network as a hand-written ``nn.Module`` trained by a hand-written loop
  with torch's fastest Adam (fused where torch has the kernel, else foreach); target >= 0.95x.

    python scripts/bench_functional.py                 # the table
    python scripts/bench_functional.py --json out.json # also write it as JSON
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import (fastest_torch_optimizer, handwritten_epoch, keras_cnn, keras_mlp, make_data,  # noqa: E402
                       optimizer_path, run_interleaved)

from kerasish import backend  # noqa: E402
from kerasish.layers import (Activation, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D,  # noqa: E402
                             Input, add)
from kerasish.models import Model  # noqa: E402
from kerasish.optimizers import Adam  # noqa: E402

LEARNING_RATE = 1e-3
RESNET_SHAPE = (16, 16, 3)
RESNET_WIDTH = 16
RESNET_BLOCKS = 2


# ---------------------------------------------------------------------------- models
def as_functional(sequential) -> Model:
    """The same layers as ``sequential``, called on an ``Input``: a functional model."""
    x = Input(shape=sequential.input_shape[1:])
    h = x
    for layer in sequential.layers:
        h = layer(h)
    return Model(x, h)


def keras_resnet() -> Model:
    x = Input(shape=RESNET_SHAPE)
    h = Activation("relu")(BatchNormalization()(Conv2D(RESNET_WIDTH, 3, padding="same")(x)))
    for _ in range(RESNET_BLOCKS):
        r = Activation("relu")(BatchNormalization()(Conv2D(RESNET_WIDTH, 3, padding="same")(h)))
        r = BatchNormalization()(Conv2D(RESNET_WIDTH, 3, padding="same")(r))
        h = Activation("relu")(add([h, r]))
    return Model(x, Dense(10, activation="softmax")(GlobalAveragePooling2D()(h)))


class TorchResNet(nn.Module):
    """``keras_resnet`` written by hand as torch users write it: NCHW batches in (the data is laid out for
    torch once, before training), NCHW compute."""

    def __init__(self):
        super().__init__()
        w = RESNET_WIDTH
        self.stem = nn.Sequential(nn.Conv2d(RESNET_SHAPE[-1], w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU())
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
                          nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w)) for _ in range(RESNET_BLOCKS))
        self.head = nn.Linear(w, 10)

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = F.relu(h + block(h))
        return self.head(h.mean(dim=(2, 3)))


# ---------------------------------------------------------------------------- comparisons
def kerasish_runner(model, x_np, y_np, batch_size):
    model.compile(optimizer=Adam(lr=LEARNING_RATE), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return lambda r: model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0)


def compare_with_sequential(kind: str, batch_size: int, n: int, repeats: int) -> dict:
    x_np, y_np = make_data(kind, n)
    sequential = keras_mlp() if kind == "mlp" else keras_cnn()
    functional = as_functional(keras_mlp() if kind == "mlp" else keras_cnn())
    times = run_interleaved({"Sequential": kerasish_runner(sequential, x_np, y_np, batch_size),
                             "functional": kerasish_runner(functional, x_np, y_np, batch_size)}, repeats)
    rates = {name: n / statistics.median(t) for name, t in times.items()}
    label = {"mlp": "MLP 784-256-256-10", "cnn": "CNN conv32-pool-128-10"}[kind]
    return {"group": "functional", "benchmark": f"functional {label}, batch {batch_size}", "unit": "samples/s",
            "kerasish": rates["functional"], "baseline": rates["Sequential"], "baseline_name": "the same Sequential",
            "ratio": rates["functional"] / rates["Sequential"]}


def compare_resnet(batch_size: int, n: int, repeats: int) -> dict:
    rng = np.random.RandomState(0)
    x_np = rng.rand(n, *RESNET_SHAPE).astype("float32")
    y_np = rng.randint(0, 10, n).astype("int64")
    device = backend.get_device()
    x = torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous().to(device)  # NCHW once, for the hand-written side
    y = torch.from_numpy(y_np).to(device)
    net = TorchResNet().to(device)
    optimizer = fastest_torch_optimizer(torch.optim.Adam, net.parameters(), lr=LEARNING_RATE)
    times = run_interleaved({"hand-written": lambda r: handwritten_epoch(net, optimizer, x, y, batch_size, r),
                             "kerasish": kerasish_runner(keras_resnet(), x_np, y_np, batch_size)}, repeats)
    rates = {name: n / statistics.median(t) for name, t in times.items()}
    return {"group": "functional", "benchmark": f"functional residual net ({RESNET_BLOCKS} blocks, {RESNET_SHAPE[0]}x{RESNET_SHAPE[1]}), "
                         f"batch {batch_size}", "unit": "samples/s", "kerasish": rates["kerasish"],
            "baseline": rates["hand-written"],
            "baseline_name": f"hand-written nn.Module and loop, Adam {optimizer_path(optimizer)}",
            "ratio": rates["kerasish"] / rates["hand-written"]}


def functional_rows(repeats: int) -> list[dict]:
    return [compare_with_sequential("mlp", 128, 16384, repeats), compare_with_sequential("mlp", 32, 8192, repeats),
            compare_with_sequential("cnn", 32, 2048, repeats), compare_resnet(32, 1024, repeats)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = functional_rows(args.repeats)
    for row in rows:
        print(f"{row['benchmark']:<58} {row['kerasish']:>10,.0f} vs {row['baseline']:>10,.0f} "
              f"({row['baseline_name']})  ratio {row['ratio']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
