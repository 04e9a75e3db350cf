"""torch data in kerasish ``fit`` (issue 16): what a DataLoader or a Dataset costs against the alternatives.

Rows (MLP 784-256-256-10, Adam, sparse cross-entropy, samples/s from median epoch times; ratios are the median
over interleaved rounds, so a change in machine load hits both sides alike):

* ``fit(DataLoader(TensorDataset))`` against a hand-written loop over the *same* DataLoader (batches copied to
  the device with ``non_blocking`` from pinned memory on CUDA; loss and accuracy summed on the device, read once
  per epoch; torch's fastest Adam). Both sides pay the loader's per-sample indexing and collate; the goal is
  >= 0.95x, i.e. kerasish adds nothing but its step;
* ``fit(TensorDataset, batch_size)`` against kerasish's own array path ``fit(x, y)``: the array path copies the
  data to the device once and gathers each batch with one ``index_select``; a Dataset is read row by row
  (``TensorDataset.__getitem__`` per sample, then ``default_collate`` stacks them and the batch is copied), so
  the gap is torch's per-sample loading, not the training step;
* the same with a Dataset that has ``__getitems__`` (one gather per batch, as the array path's streaming mode
  does): what is left of the gap is the loading in a thread on the host (Keras's ``workers=1``) and each
  batch's checks, where the array path gathers on the device. (This row once read 0.45-0.50: the loader
  thread's gather ran on torch's intra-op threads and oversubscribed the two cores the step's threads use;
  loader threads now run torch single-threaded, as DataLoader worker processes do.)

    python scripts/bench_torchdata.py                    # 16384 samples, batch 128 and 32, 15 rounds (~2 min)
    python scripts/bench_torchdata.py --samples 512      # a quick check that it runs

scripts/bench_step_cost.py counts (valgrind) what the first row times: the same comparison without the noise.
"""
from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from bench_fit import (fastest_torch_optimizer, keras_mlp, make_data, multiclass_hits, paired_ratio,
                       run_interleaved, torch_twin)

from kerasish import backend
from kerasish.optimizers import Adam

LEARNING_RATE = 1e-3
CONFIGS = [(128, 16384), (32, 16384)]  # (batch size, samples)


class GatheredTensors(TensorDataset):
    """A TensorDataset whose ``__getitems__`` returns the whole batch: one gather per tensor, nothing to stack
    (kerasish takes a tuple from ``__getitems__`` as the batch itself)."""

    def __getitems__(self, indices):
        index = torch.as_tensor(indices)
        return tuple(t[index] for t in self.tensors)



def handwritten_loader_epoch(net, optimizer, loader, device):
    """One epoch of a plain torch loop over ``loader``: copy, forward, loss, backward, step; metrics on device."""
    net.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen = 0
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(yb)
            correct += multiclass_hits(logits, yb).sum()
        seen += len(yb)
    return (loss_sum / seen).item(), (correct / seen).item()


def _kerasish_model():
    model = keras_mlp()
    model.compile(optimizer=Adam(lr=LEARNING_RATE), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def torchdata_runners(batch_size: int, n: int) -> dict:
    device = backend.get_device()
    x_np, y_np = make_data("mlp", n)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    pin = device.type == "cuda"
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, pin_memory=pin)
    gathered = GatheredTensors(x, y)
    net = torch_twin("mlp").to(device)
    optimizer = fastest_torch_optimizer(torch.optim.Adam, net.parameters(), lr=LEARNING_RATE)
    on_loader, on_dataset, on_gathered, on_arrays = (_kerasish_model() for _ in range(4))
    return {
        "hand-written loop over the DataLoader": lambda r: handwritten_loader_epoch(net, optimizer, loader, device),
        "fit(DataLoader)": lambda r: on_loader.fit(loader, epochs=1, verbose=0),
        "fit(Dataset)": lambda r: on_dataset.fit(TensorDataset(x, y), batch_size=batch_size, epochs=1, verbose=0),
        "fit(Dataset with __getitems__)": lambda r: on_gathered.fit(gathered, batch_size=batch_size, epochs=1,
                                                                    verbose=0),
        "fit(arrays)": lambda r: on_arrays.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0),
    }


MIN_ROUNDS = 15  # the fit(DataLoader) row's gap is smaller than this VM's noise: 5 rounds move its median +-4 %


def torchdata_rows(repeats: int, configs=CONFIGS) -> list[dict]:
    rows = []
    for batch_size, n in configs:
        times = run_interleaved(torchdata_runners(batch_size, n), max(repeats, MIN_ROUNDS))
        rate = {name: n / statistics.median(t) for name, t in times.items()}
        label = f"MLP 784-256-256-10, batch {batch_size}"
        for benchmark, ours, theirs in (
                (f"fit(DataLoader(TensorDataset)), {label}", "fit(DataLoader)",
                 "hand-written loop over the DataLoader"),
                (f"fit(TensorDataset) vs fit(arrays), {label}", "fit(Dataset)", "fit(arrays)"),
                (f"fit(Dataset+__getitems__) vs fit(arrays), {label}", "fit(Dataset with __getitems__)",
                 "fit(arrays)")):
            rows.append({"group": "torchdata", "benchmark": benchmark, "unit": "samples/s", "kerasish": rate[ours],
                         "baseline": rate[theirs], "baseline_name": theirs,
                         "ratio": paired_ratio(times, ours, theirs)})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=MIN_ROUNDS, help=f"rounds (at least {MIN_ROUNDS})")
    parser.add_argument("--samples", type=int, default=16384)
    opts = parser.parse_args()
    torch.manual_seed(0)
    rows = torchdata_rows(opts.repeats, [(batch_size, opts.samples) for batch_size, _ in CONFIGS])
    print(f"device: {backend.get_device()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for row in rows:
        print(f"{row['benchmark']:<64} {row['baseline_name']:<38} {row['baseline']:>10,.0f} "
              f"{row['kerasish']:>10,.0f} {row['ratio']:>6.2f}")


if __name__ == "__main__":
    main()
