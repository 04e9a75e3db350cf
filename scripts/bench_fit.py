"""Samples/second of kerasish ``fit`` next to a hand-written PyTorch loop on the same model and data.

The baseline uses torch.optim.Adam; kerasish uses its Keras-numerics Adam (one row repeats the MLP with
torch.optim.Adam on both sides). Both sides do the same work per step: a shuffled batch gathered on the device, forward, cross-entropy,
backward, an Adam step, and the epoch's loss and accuracy accumulated on the device (read once per epoch).
Runs are interleaved (baseline, kerasish, baseline, ...) and the median epoch time of each is reported, so
a change in machine load hits both sides alike.

    python scripts/bench_fit.py                 # MLP at batch 128 and 32, and the CNN
    python scripts/bench_fit.py --json out.json # also write the table as JSON
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import backend
from kerasish.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kerasish.models import Sequential
from kerasish.optimizers import Adam


# ---------------------------------------------------------------------------- models
def keras_mlp():
    return Sequential([Dense(256, activation="relu", input_shape=(784,)), Dense(256, activation="relu"),
                       Dense(10, activation="softmax")])


def keras_cnn():
    return Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(), Flatten(),
                       Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")])


def torch_twin(keras_model) -> nn.Module:
    """The same network written in plain torch (logits out; the loss applies log-softmax)."""
    if len(keras_model.layers) == 3:
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(_ToChannelsFirst(), nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), _ToChannelsLast(),
                         nn.Flatten(), nn.Linear(13 * 13 * 32, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


class _ToChannelsFirst(nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class _ToChannelsLast(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


# ---------------------------------------------------------------------------- one epoch each
def handwritten_epoch(net, optimizer, x, y, batch_size, epoch):
    net.train()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch)).to(x.device)
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        optimizer.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == yb).sum()
    return (loss_sum / len(x)).item(), (correct / len(x)).item()


def time_it(fn) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def bench(name, make_model, x_np, y_np, batch_size, repeats, metrics, kerasish_optimizer="keras"):
    """``kerasish_optimizer='keras'``: kerasish's Keras-numerics Adam; ``'torch'``: the same torch.optim.Adam as the
    baseline, so the comparison isolates the loop itself."""
    device = backend.get_device()
    model = make_model()
    model.compile(optimizer=Adam(lr=1e-3) if kerasish_optimizer == "keras" else torch.optim.Adam,
                  loss="sparse_categorical_crossentropy", metrics=metrics)
    net = torch_twin(model).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)

    # warm-up: one epoch each (allocator, kernel selection)
    model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0)
    handwritten_epoch(net, optimizer, x, y, batch_size, 0)
    base_times, ours_times = [], []
    for r in range(repeats):
        base_times.append(time_it(lambda: handwritten_epoch(net, optimizer, x, y, batch_size, r + 1)))
        ours_times.append(time_it(lambda: model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0)))
    n = len(x_np)
    base = n / statistics.median(base_times)
    ours = n / statistics.median(ours_times)
    return {"benchmark": name, "batch_size": batch_size, "samples": n, "metrics": metrics,
            "kerasish_optimizer": "kerasish Adam" if kerasish_optimizer == "keras" else "torch.optim.Adam",
            "handwritten_samples_per_s": round(base), "kerasish_samples_per_s": round(ours),
            "ratio": round(ours / base, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mlp-samples", type=int, default=16384)
    parser.add_argument("--cnn-samples", type=int, default=2048)
    parser.add_argument("--json", help="also write the results to this file")
    opts = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    mlp_x = rng.rand(opts.mlp_samples, 784).astype("float32")
    mlp_y = rng.randint(0, 10, opts.mlp_samples).astype("int64")
    cnn_x = rng.rand(opts.cnn_samples, 28, 28, 1).astype("float32")
    cnn_y = rng.randint(0, 10, opts.cnn_samples).astype("int64")

    rows = [
        bench("MLP 784-256-256-10", keras_mlp, mlp_x, mlp_y, 128, opts.repeats, ["accuracy"]),
        bench("MLP 784-256-256-10", keras_mlp, mlp_x, mlp_y, 32, opts.repeats, ["accuracy"]),
        bench("MLP 784-256-256-10", keras_mlp, mlp_x, mlp_y, 128, opts.repeats, ["accuracy"],
              kerasish_optimizer="torch"),
        bench("CNN conv32-pool-128-10", keras_cnn, cnn_x, cnn_y, 32, opts.repeats, ["accuracy"]),
    ]
    print(f"device: {backend.get_device()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    header = (f"{'benchmark':<24} {'batch':>5} {'kerasish optimizer':<18} {'hand-written/s':>15} {'kerasish/s':>11} "
              f"{'ratio':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['benchmark']:<24} {row['batch_size']:>5} {row['kerasish_optimizer']:<18} "
              f"{row['handwritten_samples_per_s']:>15,} "
              f"{row['kerasish_samples_per_s']:>11,} {row['ratio']:>6.2f}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
