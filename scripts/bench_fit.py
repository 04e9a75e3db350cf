"""Samples/second of kerasish ``fit`` next to a hand-written PyTorch loop on the same model and data.

The hand-written loop runs torch's fastest optimizer path for its device: ``fused=True`` where torch has a fused
kernel for the parameters' device and dtype, else ``foreach=True``. Every configuration (model, batch size) is
timed five ways, interleaved:

* kerasish ``Adam`` against the loop with that fastest ``torch.optim.Adam`` (the headline ratio) and against the
  loop with torch's default ``torch.optim.Adam(params)`` (what a loop gets without asking): both figures shown;
* kerasish ``SGD(momentum=0.9)`` against the loop with ``torch.optim.SGD(momentum=0.9)`` on its fastest path:
  the cheapest update on both sides, so what is left of the gap is the loop's own overhead.

Both sides do the same work per step: a shuffled batch gathered on the device, forward, cross-entropy, backward,
an optimizer step, and the epoch's loss and accuracy accumulated on the device (read once per epoch). Runs are
interleaved (A, B, C, then C, B, A ...): the rates are from each side's median epoch time, the ratios the median of
the rounds' ratios, so a change in machine load hits every side alike.

    python scripts/bench_fit.py                 # MLP and CNN at batch 128, 32 and 8
    python scripts/bench_fit.py --json out.json # also write the table as JSON
"""
from __future__ import annotations

import argparse
import inspect
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
from kerasish.optimizers import SGD, Adam

LEARNING_RATES = {"adam": 1e-3, "sgd": 0.01}
MOMENTUM = 0.9
MODEL_LABELS = {"mlp": "MLP 784-256-256-10", "cnn": "CNN conv32-pool-128-10"}
# (model, batch size, samples): enough steps per epoch that one epoch is a few tenths of a second
CONFIGS = [("mlp", 128, 16384), ("mlp", 32, 16384), ("mlp", 8, 4096),
           ("cnn", 128, 4096), ("cnn", 32, 2048), ("cnn", 8, 1024)]


# ---------------------------------------------------------------------------- models
def keras_mlp():
    return Sequential([Dense(256, activation="relu", input_shape=(784,)), Dense(256, activation="relu"),
                       Dense(10, activation="softmax")])


def keras_cnn():
    return Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(), Flatten(),
                       Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")])


def torch_twin(kind: str) -> nn.Module:
    """The network of ``keras_mlp``/``keras_cnn`` written in plain torch (logits out; the loss applies
    log-softmax)."""
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(_ToChannelsFirst(), nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), _ToChannelsLast(),
                         nn.Flatten(), nn.Linear(13 * 13 * 32, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


class _ToChannelsFirst(nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class _ToChannelsLast(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


# ---------------------------------------------------------------------------- the baseline's optimizers
def fastest_torch_optimizer(cls, params, **hyper) -> torch.optim.Optimizer:
    """``cls`` (``torch.optim.Adam``, ``torch.optim.SGD`` ...) on the fastest path torch has for these tensors:
    the fused kernel where torch has one for their device and dtype, else the multi-tensor (foreach) kernels.
    torch decides that itself only for foreach; fused is opt-in (its default is the foreach path)."""
    from torch.optim.optimizer import _default_to_fused_or_foreach  # torch's own device/dtype table
    params = list(params)
    fused, foreach = _default_to_fused_or_foreach(params, differentiable=False, use_fused=True)
    if fused and "fused" in inspect.signature(cls).parameters:  # SGD has no fused kernel before torch 2.3
        return cls(params, fused=True, **hyper)
    return cls(params, foreach=True if foreach else None, **hyper)


def optimizer_path(optimizer: torch.optim.Optimizer) -> str:
    """``'fused'``, ``'foreach'`` or ``'default'``: which path a torch optimizer was built for."""
    group = optimizer.param_groups[0]
    return "fused" if group.get("fused") else "foreach" if group.get("foreach") else "default"


# ---------------------------------------------------------------------------- one epoch each
def multiclass_hits(logits, y):
    return logits.argmax(1) == y


def handwritten_epoch(net, optimizer, x, y, batch_size, epoch, loss_fn=F.cross_entropy, hits=multiclass_hits):
    """One epoch of the hand-written loop: a shuffled batch gathered on the device, ``loss_fn`` on the logits,
    backward, the optimizer's step, the epoch's loss and ``hits`` summed on the device and read once."""
    net.train()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch)).to(x.device)
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        optimizer.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(idx)
            correct += hits(logits, yb).sum()
    return (loss_sum / len(x)).item(), (correct / len(x)).item()


def time_it(fn) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def run_interleaved(runners: dict, repeats: int) -> dict:
    """One warm-up call each, then ``repeats`` rounds: A, B, C ..., then C, B, A in the next round, and so on;
    returns the seconds of each call. The order turns every round: when the machine speeds up or slows down
    within a round (this VM has phases of +-30 %), the side that always ran first would always gain or lose."""
    for run in runners.values():
        run(0)
    times = {name: [] for name in runners}
    for r in range(repeats):
        order = list(runners.items()) if r % 2 == 0 else list(reversed(runners.items()))
        for name, run in order:
            times[name].append(time_it(lambda: run(r + 1)))
    return times


def make_data(kind: str, n: int):
    rng = np.random.RandomState(0)
    shape = (n, 784) if kind == "mlp" else (n, 28, 28, 1)
    return rng.rand(*shape).astype("float32"), rng.randint(0, 10, n).astype("int64")


def fit_runners(kind: str, x_np, y_np, batch_size: int) -> tuple[dict, dict]:
    """The five runners of one configuration (each takes the epoch number) and the baseline's optimizer paths."""
    device = backend.get_device()
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)

    def kerasish(optimizer):
        model = keras_mlp() if kind == "mlp" else keras_cnn()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return lambda r: model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0)

    def handwritten(make_optimizer):
        net = torch_twin(kind).to(device)
        optimizer = make_optimizer(net.parameters())
        return (lambda r: handwritten_epoch(net, optimizer, x, y, batch_size, r)), optimizer

    adam, sgd = LEARNING_RATES["adam"], LEARNING_RATES["sgd"]
    fast_adam, fast_adam_opt = handwritten(lambda p: fastest_torch_optimizer(torch.optim.Adam, p, lr=adam))
    default_adam, _ = handwritten(lambda p: torch.optim.Adam(p, lr=adam))
    fast_sgd, fast_sgd_opt = handwritten(
        lambda p: fastest_torch_optimizer(torch.optim.SGD, p, lr=sgd, momentum=MOMENTUM))
    runners = {
        "hand-written, fastest Adam": fast_adam,
        "hand-written, torch default Adam": default_adam,
        "kerasish Adam": kerasish(Adam(lr=adam)),
        "hand-written, fastest SGD momentum": fast_sgd,
        "kerasish SGD momentum": kerasish(SGD(lr=sgd, momentum=MOMENTUM)),
    }
    return runners, {"adam": optimizer_path(fast_adam_opt), "sgd": optimizer_path(fast_sgd_opt)}


def compare_fit(kind: str, batch_size: int, n: int, repeats: int, extra_runners=None) -> dict:
    """Samples/s of every runner of one configuration (``extra_runners``: name -> callable(x, y, batch_size)
    returning a runner, e.g. Keras 3), and the baseline's optimizer paths."""
    x_np, y_np = make_data(kind, n)
    runners, paths = fit_runners(kind, x_np, y_np, batch_size)
    for name, make in (extra_runners or {}).items():
        runner = make(kind, x_np, y_np, batch_size)
        if runner is not None:
            runners[name] = runner
    times = run_interleaved(runners, repeats)
    return {"kind": kind, "batch_size": batch_size, "samples": n, "paths": paths, "times": times,
            "rates": {name: n / statistics.median(t) for name, t in times.items()}}


def paired_ratio(times: dict, ours: str, theirs: str) -> float:
    """Speed of ``ours`` over ``theirs``: the median over rounds of each round's ratio. Both ran in the same round,
    back to back, so a load change between rounds cancels out (the ratio of two medians can pair a quiet round
    of one with a busy round of the other)."""
    return statistics.median(t_theirs / t_ours for t_ours, t_theirs in zip(times[ours], times[theirs]))


def ratio_rows(result: dict) -> list[dict]:
    """The three comparisons of one configuration as rows: kerasish rate, baseline rate (medians), ratio (paired)."""
    rates, paths, times = result["rates"], result["paths"], result["times"]
    label = f"{MODEL_LABELS[result['kind']]}, batch {result['batch_size']}"
    comparisons = [
        (label, "kerasish Adam", "hand-written, fastest Adam", f"hand-written loop, Adam {paths['adam']}"),
        (f"{label}, vs default Adam", "kerasish Adam", "hand-written, torch default Adam",
         "hand-written loop, torch default Adam"),
        (f"{label}, SGD momentum", "kerasish SGD momentum", "hand-written, fastest SGD momentum",
         f"hand-written loop, SGD {paths['sgd']}"),
    ]
    return [{"benchmark": name, "unit": "samples/s", "kerasish": rates[ours], "baseline": rates[theirs],
             "baseline_name": baseline_name, "ratio": paired_ratio(times, ours, theirs)}
            for name, ours, theirs, baseline_name in comparisons]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this file")
    opts = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for kind, batch_size, n in CONFIGS:
        rows += ratio_rows(compare_fit(kind, batch_size, n, opts.repeats))
    print(f"device: {backend.get_device()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    header = f"{'benchmark':<50} {'baseline':<36} {'hand-written/s':>15} {'kerasish/s':>11} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['benchmark']:<50} {row['baseline_name']:<36} {row['baseline']:>15,.0f} "
              f"{row['kerasish']:>11,.0f} {row['ratio']:>6.2f}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
