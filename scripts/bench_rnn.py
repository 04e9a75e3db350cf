"""Samples/second of kerasish ``fit`` on imdb-like text models next to a hand-written PyTorch loop.

Data: random token sequences from a vocabulary of 20,000 (imdb's usual ``num_words``), 80 and 200 tokens long,
binary labels; batch 32 and 128. Each row pairs a kerasish model with its best hand-written torch twin:

* ``Embedding(20000, 128) -> LSTM(128) -> Dense(1, sigmoid)`` against ``nn.Embedding`` + ``nn.LSTM`` +
  ``nn.Linear`` (torch's fused LSTM, cuDNN on a GPU);
* the same with ``GRU(128)`` at Keras's default ``reset_after=False`` against ``nn.GRU`` (torch's GRU is the
  ``reset_after=True`` variant; no torch kernel computes Keras's default, so this is the best hand-written
  equivalent, and kerasish runs its own kernel of Keras's equations, recurrent_kernels.run_gru_reset_before);
* ``Embedding(20000, 128) -> Bidirectional(LSTM(64)) -> Dense(1, sigmoid)`` (Keras's imdb_bidirectional_lstm
  example; half of ``--units``) against ``nn.LSTM(bidirectional=True)``, torch's single call for both
  directions. kerasish runs its two layers as two fused calls, the backward one on the flipped sequence: on the
  CPU one bidirectional call measured no faster than two (so there is no such fast path);
* ``CuDNNLSTM(128)`` against ``nn.LSTM``: the same twin as the LSTM row (cuDNN's equations are nn.LSTM's, two
  biases included).

A row is a kerasish builder and a torch twin in ``MODELS``: another one is two functions and one entry. Both sides do the same work per step: a shuffled batch gathered
on the device, forward, binary cross-entropy (from logits on both sides: kerasish absorbs the final sigmoid),
backward, Adam on torch's fastest path for the device (bench_fit.py), the epoch's loss and accuracy kept on the
device. Runs are interleaved; ratios are paired per round (bench_fit.paired_ratio).

    python scripts/bench_rnn.py                      # the table
    python scripts/bench_rnn.py --samples 64 --repeats 1 --units 8   # a quick check that it runs
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
from bench_fit import fastest_torch_optimizer, optimizer_path, paired_ratio, run_interleaved  # noqa: E402
from bench_fit import handwritten_epoch as fit_epoch  # noqa: E402

from kerasish import backend  # noqa: E402
from kerasish.layers import GRU, LSTM, Bidirectional, CuDNNLSTM, Dense, Embedding  # noqa: E402
from kerasish.models import Sequential  # noqa: E402
from kerasish.optimizers import Adam  # noqa: E402

VOCABULARY = 20_000
EMBEDDING = 128
LEARNING_RATE = 1e-3
# (sequence length, batch size, samples per epoch): a few tenths of a second to seconds per epoch on a CPU
CONFIGS = [(80, 32, 1024), (80, 128, 2048), (200, 32, 512), (200, 128, 1024)]


# ---------------------------------------------------------------------------- models
def keras_lstm(length: int, units: int) -> Sequential:
    return Sequential([Embedding(VOCABULARY, EMBEDDING, input_length=length), LSTM(units),
                       Dense(1, activation="sigmoid")])


def keras_gru(length: int, units: int) -> Sequential:
    return Sequential([Embedding(VOCABULARY, EMBEDDING, input_length=length), GRU(units),
                       Dense(1, activation="sigmoid")])


def keras_bidirectional_lstm(length: int, units: int) -> Sequential:
    return Sequential([Embedding(VOCABULARY, EMBEDDING, input_length=length), Bidirectional(LSTM(units // 2)),
                       Dense(1, activation="sigmoid")])


def keras_cudnn_lstm(length: int, units: int) -> Sequential:
    return Sequential([Embedding(VOCABULARY, EMBEDDING, input_length=length), CuDNNLSTM(units),
                       Dense(1, activation="sigmoid")])


class TorchRecurrentClassifier(nn.Module):
    """nn.Embedding -> a torch recurrent module (batch first) -> the last step's hidden state (both directions'
    side by side for a bidirectional module, as Keras's ``merge_mode='concat'``) -> one logit."""

    def __init__(self, recurrent: nn.Module, units: int):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, EMBEDDING)
        self.recurrent = recurrent
        self.out = nn.Linear(units, 1)

    def forward(self, tokens):
        _, hidden = self.recurrent(self.embedding(tokens))
        h = hidden[0] if isinstance(hidden, tuple) else hidden  # LSTM: (h, c); h (directions, batch, units)
        last = h[-1] if h.shape[0] == 1 else torch.cat(tuple(h), dim=-1)
        return self.out(last).squeeze(1)


def torch_lstm(units: int) -> nn.Module:
    return TorchRecurrentClassifier(nn.LSTM(EMBEDDING, units, batch_first=True), units)


def torch_gru(units: int) -> nn.Module:
    return TorchRecurrentClassifier(nn.GRU(EMBEDDING, units, batch_first=True), units)


def torch_bidirectional_lstm(units: int) -> nn.Module:
    return TorchRecurrentClassifier(nn.LSTM(EMBEDDING, units // 2, batch_first=True, bidirectional=True),
                                    2 * (units // 2))


# name -> (the recurrent layer's label, {units} and {half} (units // 2) filled in, kerasish builder (length,
# units), torch twin (units), the twin's description)
MODELS = {
    "lstm": ("LSTM({units})", keras_lstm, torch_lstm, "nn.Embedding + nn.LSTM"),
    # kerasish runs Keras's default GRU (reset_after=False, its own kernel); nn.GRU is the reset_after=True variant
    "gru": ("GRU({units})", keras_gru, torch_gru, "nn.Embedding + nn.GRU"),
    "bilstm": ("Bidirectional(LSTM({half}))", keras_bidirectional_lstm, torch_bidirectional_lstm,
               "nn.Embedding + nn.LSTM(bidirectional=True)"),
    "cudnn_lstm": ("CuDNNLSTM({units})", keras_cudnn_lstm, torch_lstm, "nn.Embedding + nn.LSTM"),
}


# ---------------------------------------------------------------------------- one epoch each
def binary_hits(logits, y):
    return (logits > 0).float() == y


def handwritten_epoch(net, optimizer, x, y, batch_size, epoch):
    """One epoch of the torch twin (bench_fit's loop): binary cross-entropy from logits."""
    return fit_epoch(net, optimizer, x, y, batch_size, epoch, loss_fn=F.binary_cross_entropy_with_logits,
                     hits=binary_hits)


def make_data(length: int, n: int):
    rng = np.random.RandomState(0)
    return rng.randint(0, VOCABULARY, size=(n, length)).astype("int64"), rng.randint(0, 2, n).astype("float32")


def compare(name: str, length: int, batch_size: int, n: int, units: int, repeats: int) -> dict:
    """One row: kerasish fit against the torch twin's loop, interleaved."""
    label, keras_builder, torch_builder, twin = MODELS[name]
    device = backend.get_device()
    x_np, y_np = make_data(length, n)
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)
    model = keras_builder(length, units)
    model.compile(optimizer=Adam(lr=LEARNING_RATE), loss="binary_crossentropy", metrics=["accuracy"])
    net = torch_builder(units).to(device)
    optimizer = fastest_torch_optimizer(torch.optim.Adam, net.parameters(), lr=LEARNING_RATE)
    runners = {"kerasish": lambda r: model.fit(x_np, y_np, batch_size=batch_size, epochs=1, verbose=0),
               "hand-written": lambda r: handwritten_epoch(net, optimizer, x, y, batch_size, r)}
    times = run_interleaved(runners, repeats)
    benchmark = f"imdb Embedding-{label.format(units=units, half=units // 2)}-Dense, {length} tokens, " \
                f"batch {batch_size}"
    return {"group": "rnn", "benchmark": benchmark, "unit": "samples/s",
            "kerasish": n / statistics.median(times["kerasish"]),
            "baseline": n / statistics.median(times["hand-written"]),
            "baseline_name": f"hand-written loop, {twin}, Adam {optimizer_path(optimizer)}",
            "ratio": paired_ratio(times, "kerasish", "hand-written")}


def rnn_rows(repeats: int, samples: int | None = None, units: int = 128, models=tuple(MODELS)) -> list[dict]:
    """Every model at every configuration; ``samples`` overrides the samples per epoch (a quick check)."""
    return [compare(name, length, batch_size, samples or n, units, repeats)
            for name in models for length, batch_size, n in CONFIGS]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, help="samples per epoch for every configuration")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--json", help="also write the rows to this file")
    opts = parser.parse_args()
    torch.manual_seed(0)
    rows = rnn_rows(opts.repeats, opts.samples, opts.units, opts.models)
    print(f"device: {backend.get_device()}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    header = f"{'benchmark':<72} {'hand-written/s':>15} {'kerasish/s':>11} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['benchmark']:<72} {row['baseline']:>15,.0f} {row['kerasish']:>11,.0f} {row['ratio']:>6.2f}")
    print("baselines: " + "; ".join(sorted({row["baseline_name"] for row in rows})))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
