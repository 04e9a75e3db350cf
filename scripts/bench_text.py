"""Time of ``Tokenizer.sequences_to_matrix``: kerasish next to keras-preprocessing 1.1.2 (Keras 2.3.1's).

A 10,000-word vocabulary (``num_words=10000``), 2,000 sequences of 200 word indices drawn with Zipf's law
(probability of rank r proportional to 1/r, so frequent words repeat within a sequence as in real text), document
frequencies from ``fit_on_sequences`` on the same sequences; modes 'binary' and 'tfidf'. Both sides run in this
process, interleaved (keras-preprocessing, kerasish, keras-preprocessing, ...), and the medians are compared, so
a change in machine load hits both alike. The two results are checked to be equal.

The ratio is kerasish's time over keras-preprocessing's (0.1 = ten times faster). The float64 result is
``sequences x num_words`` (160 MB here) and both sides must allocate and write it: the "floor" column is the
time of ``np.zeros`` of that shape plus one write per row and word, the least any implementation can take, so
the best possible ratio is floor / keras-preprocessing's time.

    python scripts/bench_text.py                          # the table
    python scripts/bench_text.py --sequences 50 --repeats 1  # a quick check that it runs
    python scripts/bench_text.py --json out.json          # also write the rows as JSON
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from kerasish.preprocessing.text import Tokenizer

MODES = ("binary", "tfidf")


def zipf_sequences(count: int, length: int, vocabulary: int, seed: int = 0) -> list:
    """``count`` lists of ``length`` Python ints in ``[1, vocabulary)``, rank r drawn with probability ~ 1/r."""
    rng = np.random.RandomState(seed)
    ranks = np.arange(1, vocabulary)
    draws = rng.choice(ranks, size=(count, length), p=(1.0 / ranks) / np.sum(1.0 / ranks))
    return draws.tolist()


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def floor_seconds(rows: np.ndarray, columns: np.ndarray, shape: tuple) -> float:
    """Allocating the float64 result and writing one value per (row, word): the memory traffic both sides pay."""
    def fill():
        matrix = np.zeros(shape)
        matrix[rows, columns] = 1.0
    return seconds(fill)


def bench_sequences_to_matrix(repeats: int = 5, sequences: int = 2000, length: int = 200,
                              vocabulary: int = 10000) -> list[dict]:
    """One row per mode: median seconds of kerasish and of keras-preprocessing 1.1.2 over ``repeats``
    interleaved calls (after one warm-up call each), and their ratio. No rows (and a message) when
    keras-preprocessing is not installed."""
    try:
        from keras_preprocessing.text import Tokenizer as KerasTokenizer
    except ImportError:
        print("bench_text: keras-preprocessing is not installed, so there is nothing to compare with; "
              "pip install keras-preprocessing==1.1.2 for the text rows")
        return []
    data = zipf_sequences(sequences, length, vocabulary)
    ours, theirs = Tokenizer(num_words=vocabulary), KerasTokenizer(num_words=vocabulary)
    ours.fit_on_sequences(data)
    theirs.fit_on_sequences(data)
    flat = np.asarray(data)
    rows, columns = np.repeat(np.arange(sequences), length), flat.reshape(-1)
    results = []
    for mode in MODES:
        if not np.array_equal(ours.sequences_to_matrix(data, mode), theirs.sequences_to_matrix(data, mode)):
            raise AssertionError(f"sequences_to_matrix(mode={mode!r}) differs from keras-preprocessing's")
        times = {"kerasish": [], "keras-preprocessing": [], "floor": []}
        for _ in range(repeats):
            times["keras-preprocessing"].append(seconds(lambda: theirs.sequences_to_matrix(data, mode)))
            times["kerasish"].append(seconds(lambda: ours.sequences_to_matrix(data, mode)))
            times["floor"].append(floor_seconds(rows, columns, (sequences, vocabulary)))
        ms = {name: 1e3 * statistics.median(values) for name, values in times.items()}
        results.append({
            "group": "text",
            "benchmark": f"sequences_to_matrix {mode}, {sequences}x{length} words, vocab {vocabulary:,}",
            "unit": "ms/call", "kerasish": ms["kerasish"], "baseline": ms["keras-preprocessing"],
            "baseline_name": "keras-preprocessing 1.1.2", "ratio": ms["kerasish"] / ms["keras-preprocessing"],
            "floor_ms": ms["floor"], "repeats": repeats,
        })
    return results


def print_rows(rows: list[dict]) -> None:
    if not rows:
        return
    header = f"{'benchmark':<62} {'kerasish':>10} {'keras-pp':>10} {'floor':>8} {'ratio':>6} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['benchmark']:<62} {row['kerasish']:>8.1f}ms {row['baseline']:>8.1f}ms "
              f"{row['floor_ms']:>6.1f}ms {row['ratio']:>6.3f} {1 / row['ratio']:>8.1f}x")
    print("ratio = kerasish time / keras-preprocessing time; floor = np.zeros of the result plus one write per "
          "word (see the module docstring)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sequences", type=int, default=2000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--vocabulary", type=int, default=10000)
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args()
    rows = bench_sequences_to_matrix(args.repeats, args.sequences, args.length, args.vocabulary)
    print_rows(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
