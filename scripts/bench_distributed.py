"""Samples/second of ``fit`` with 1 and N data-parallel processes on the same work (torchrun, DDP).

The same global work in every row: the same synthetic data, global ``batch_size`` and number of epochs; with
N processes each step's global batch is split N ways and gradients are averaged by DDP. The first epoch is
warm-up (allocation, the DDP wrapper, first collectives) and is not timed; the median of the other epochs is.

    python scripts/bench_distributed.py                   # 1 and 2 processes (CPU), or 1..all GPUs
    python scripts/bench_distributed.py --nproc 1 2 4 8   # explicit process counts
    python scripts/bench_distributed.py --json out.json   # also write the rows as JSON

On GPUs each process trains on its own GPU (``cuda:LOCAL_RANK``, NCCL), so N GPUs can approach N times the
samples/second. On a CPU-only machine the processes share the same cores: each gets ``cores // N`` threads,
so 2 processes on 2 cores do the work of 1 process with 2 threads, and the ratio measures what data
parallelism costs there (gloo all-reduces of the gradients, one small all-reduce per step for the loss
scaling), not a speed-up; it can at best be about 1.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULT_TAG = "BENCH_RESULT "


# ---------------------------------------------------------------------------- one replica (under torchrun)
def run_replica(args) -> None:
    from kerasish import backend, distributed
    from kerasish.callbacks import Callback
    from kerasish.layers import Dense
    from kerasish.models import Sequential

    world = distributed.world_size()
    device = backend.get_device()
    if device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))  # the cores, shared fairly
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, args.features)).astype("float32")
    y = np.eye(args.classes, dtype="float32")[rng.integers(0, args.classes, args.samples)]
    model = Sequential([Dense(args.hidden, activation="relu", input_shape=(args.features,)),
                        Dense(args.hidden, activation="relu"), Dense(args.classes, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])

    class EpochTimer(Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def _sync(self):
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        def on_epoch_begin(self, epoch, logs=None):
            self._sync()
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # logs are reduced over the replicas: all ranks are done
            self._sync()
            self.times.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, callbacks=[timer])
    if distributed.is_main_process():
        seconds = statistics.median(timer.times[1:])
        print(RESULT_TAG + json.dumps({"processes": world, "device": str(device.type), "threads":
                                       torch.get_num_threads(), "epoch_s": seconds,
                                       "samples_per_s": args.samples / seconds}), flush=True)


# ---------------------------------------------------------------------------- launcher
def launch(nproc: int, args) -> dict:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(Path(__file__).resolve()), "--replica", "--samples", str(args.samples), "--batch-size",
               str(args.batch_size), "--epochs", str(args.epochs), "--hidden", str(args.hidden)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("OMP_NUM_THREADS", None)  # the replica sets its thread count itself
    job = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in job.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if job.returncode != 0 or not lines:
        raise SystemExit(f"bench_distributed: the run with {nproc} processes failed:\n{job.stdout}\n{job.stderr}")
    return json.loads(lines[-1][len(RESULT_TAG):])


def default_process_counts() -> list[int]:
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus > 1:
        return sorted({1, 2, 4, 8, gpus} & set(range(1, gpus + 1)))
    return [1, 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, nargs="+", default=None, help="process counts (default: 1 2, or "
                                                                           "1..all GPUs)")
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=256, help="the global batch")
    parser.add_argument("--epochs", type=int, default=4, help="the first one is warm-up")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--json", default=None, help="write the rows to this file")
    parser.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first is warm-up)")
    if args.replica:
        run_replica(args)
        return

    rows = [launch(n, args) for n in (args.nproc or default_process_counts())]
    base = rows[0]["samples_per_s"] / rows[0]["processes"]  # per process of the first row
    print(f"MLP {args.features}-{args.hidden}-{args.hidden}-{args.classes}, {args.samples} samples, global batch "
          f"{args.batch_size}, median of {args.epochs - 1} epochs after 1 warm-up; {os.cpu_count()} CPU cores")
    print(f"{'processes':>9} {'device':>6} {'threads':>7} {'epoch s':>8} {'samples/s':>10} {'speedup':>8} "
          f"{'ideal':>6} {'of ideal':>8}")
    for row in rows:
        row["speedup"] = row["samples_per_s"] / (base * rows[0]["processes"])
        # GPUs add hardware with each process; CPU processes share the same cores
        row["ideal"] = row["processes"] / rows[0]["processes"] if row["device"] == "cuda" else 1.0
        print(f"{row['processes']:>9} {row['device']:>6} {row['threads']:>7} {row['epoch_s']:>8.3f} "
              f"{row['samples_per_s']:>10.0f} {row['speedup']:>7.2f}x {row['ideal']:>5.2f}x "
              f"{row['speedup'] / row['ideal']:>8.0%}")
    if rows[0]["device"] == "cpu":
        print(f"CPU only: the processes share the same {os.cpu_count()} cores (threads per process = cores / "
              "processes), so the ideal speedup here is 1.00x; the ratio is the cost of data parallelism. "
              "Run on a machine with GPUs for scaling figures.")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
