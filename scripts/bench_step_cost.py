"""What a training step of ``fit(DataLoader)`` costs against the hand-written loop, counted instead of timed.

The wall-clock rows of bench_torchdata.py move 5-10 % from run to run on this shared 2-core VM (its speed has
phases of +-30 % that no interleaving fully cancels), more than the gap they measure. Here both sides run in
one process under valgrind's callgrind, which counts the instructions each executes and simulates its caches:
the same code gives nearly the same counts on a busy machine or a quiet one.

Each side trains one epoch of ``--short`` steps and one of ``--long`` steps (each a ``fit`` call for kerasish):
the difference is ``long - short`` steps, so the counts split into a cost per step and a cost per epoch (for
``fit``: its per-call work, callbacks, the iterator; the NaN/inf check of the data scales with the samples and
counts per step). Printed: instructions (Ir) and callgrind's cycle estimate (CEst = Ir + 10 x L1 misses +
100 x last-level misses) per step and per epoch, and the ratio hand-written / fit (above 1: fit is cheaper)
per step and for an epoch of 128 steps, as the wall-clock bench runs.

What the counts leave out: callgrind runs threads one at a time, so torch runs on one intra-op thread here
(with two, the step's Python is not split and weighs about twice as much); the cycle estimate has no L2 cache,
no branch predictor and no memory bandwidth.

Needs valgrind, its header valgrind/callgrind.h and a C compiler: a three-line helper is compiled to start
the counting after the imports and to read it out around each epoch.

    python scripts/bench_step_cost.py                # MLP 784-256-256-10, batch 128 and 32 (~7 min on 2 cores)
    python scripts/bench_step_cost.py --short 1 --long 2  # a quick check that it runs
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

BATCH_SIZES = (128, 32)
HELPER_SOURCE = """#include <valgrind/callgrind.h>
void start_counting(void) { CALLGRIND_START_INSTRUMENTATION; }
void zero_counts(void) { CALLGRIND_ZERO_STATS; }
void dump_counts(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""
SIDES = ("hand-written loop", "fit(DataLoader)")


# ---------------------------------------------------------------------------- the parent: run, then read
def build_helper(directory: str) -> str:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if shutil.which("valgrind") is None or compiler is None:
        sys.exit("bench_step_cost: needs valgrind and a C compiler (e.g. apt-get install valgrind gcc).")
    source, library = os.path.join(directory, "helper.c"), os.path.join(directory, "helper.so")
    with open(source, "w") as f:
        f.write(HELPER_SOURCE)
    built = subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", library, source], capture_output=True,
                           text=True)
    if built.returncode != 0:
        sys.exit(f"bench_step_cost: could not compile the callgrind helper (is valgrind/callgrind.h installed, "
                 f"e.g. the valgrind package?):\n{built.stderr}")
    return library


def run_counted(opts, directory: str, helper: str) -> None:
    command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--instr-atstart=no",
               f"--callgrind-out-file={os.path.join(directory, 'counts')}", sys.executable,
               os.path.abspath(__file__), "--child", helper, "--short", str(opts.short), "--long", str(opts.long)]
    child = subprocess.run(command, capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(f"bench_step_cost: the counted run failed:\n{child.stdout}\n{child.stderr[-4000:]}")


def read_dumps(directory: str) -> dict:
    """``{(side, batch size, steps): (Ir, CEst)}`` of each counted epoch, from callgrind's dump files."""
    counts = {}
    for path in glob.glob(os.path.join(directory, "counts.*")):
        with open(path, errors="replace") as f:
            text = f.read()
        trigger = re.search(r"^desc: Trigger: Client Request: (\S+)$", text, re.M)
        if trigger is None:
            continue  # the dump at exit
        side, batch_size, steps = map(int, trigger.group(1).split(":"))
        events = re.search(r"^events: (.*)$", text, re.M).group(1).split()
        totals = dict(zip(events, map(int, re.search(r"^(?:summary|totals): (.*)$", text, re.M).group(1).split())))
        l1_misses = totals["I1mr"] + totals["D1mr"] + totals["D1mw"]
        last_level_misses = totals["ILmr"] + totals["DLmr"] + totals["DLmw"]
        counts[(SIDES[side], batch_size, steps)] = (totals["Ir"], totals["Ir"] + 10 * l1_misses
                                                    + 100 * last_level_misses)
    return counts


def split_costs(counts: dict, side: str, batch_size: int, short: int, long: int) -> list[tuple[float, float]]:
    """``[(per step, per epoch)]`` for Ir and CEst: the two epochs solve ``count = per_epoch + steps * per_step``."""
    costs = []
    for short_count, long_count in zip(counts[(side, batch_size, short)], counts[(side, batch_size, long)]):
        per_step = (long_count - short_count) / (long - short)
        costs.append((per_step, short_count - short * per_step))
    return costs


def report(counts: dict, short: int, long: int, epoch_steps: int = 128) -> None:
    print("counted by callgrind, one torch thread; millions; ratio = hand-written / fit")
    print(f"{'':<34} {'Ir/step':>9} {'Ir/epoch':>9} {'CEst/step':>10} {'CEst/epoch':>10}")
    for batch_size in BATCH_SIZES:
        costs = {side: split_costs(counts, side, batch_size, short, long) for side in SIDES}
        for side in SIDES:
            (ir_step, ir_epoch), (cest_step, cest_epoch) = costs[side]
            print(f"{side + f', batch {batch_size}':<34} {ir_step / 1e6:>9.3f} {ir_epoch / 1e6:>9.3f} "
                  f"{cest_step / 1e6:>10.3f} {cest_epoch / 1e6:>10.3f}")
        ratios = []
        for (hand_step, hand_epoch), (fit_step, fit_epoch) in zip(*costs.values()):
            ratios.append(hand_step / fit_step)
            ratios.append((hand_epoch + epoch_steps * hand_step) / (fit_epoch + epoch_steps * fit_step))
        print(f"{f'ratio per step, batch {batch_size}':<34} {ratios[0]:>9.3f} {'':>9} {ratios[2]:>10.3f}")
        print(f"{f'ratio per {epoch_steps}-step epoch, batch {batch_size}':<34} {ratios[1]:>9.3f} {'':>9} "
              f"{ratios[3]:>10.3f}")


# ---------------------------------------------------------------------------- the child, under callgrind
def count_epochs(helper: str, short: int, long: int) -> None:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_fit import fastest_torch_optimizer, make_data, torch_twin
    from bench_torchdata import _kerasish_model, handwritten_loader_epoch

    torch.set_num_threads(1)  # callgrind runs one thread at a time: more would only wait for each other
    torch.manual_seed(0)
    counter = ctypes.CDLL(helper)
    runs = []
    for batch_size in BATCH_SIZES:
        net = torch_twin("mlp")
        optimizer = fastest_torch_optimizer(torch.optim.Adam, net.parameters(), lr=1e-3)
        model = _kerasish_model()
        for steps in (short, long):
            x, y = (torch.from_numpy(a) for a in make_data("mlp", batch_size * steps))
            loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
            runs.append((f"0:{batch_size}:{steps}", lambda net=net, optimizer=optimizer, loader=loader:
                         handwritten_loader_epoch(net, optimizer, loader, torch.device("cpu"))))
            runs.append((f"1:{batch_size}:{steps}", lambda model=model, loader=loader:
                         model.fit(loader, epochs=1, verbose=0)))
    for _, epoch in runs:  # first calls (model builds, lazy imports), not counted
        epoch()
    counter.start_counting()
    for name, epoch in runs:
        if name.endswith(f":{short}"):
            epoch()  # this side's first counted epoch runs on empty simulated caches: one more, before it
        counter.zero_counts()
        epoch()
        counter.dump_counts(name.encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=4, help="steps of the short epoch")
    parser.add_argument("--long", type=int, default=12, help="steps of the long epoch")
    parser.add_argument("--child", metavar="HELPER", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        count_epochs(opts.child, opts.short, opts.long)
        return
    with tempfile.TemporaryDirectory() as directory:
        helper = build_helper(directory)
        run_counted(opts, directory, helper)
        report(read_dumps(directory), opts.short, opts.long)


if __name__ == "__main__":
    main()
