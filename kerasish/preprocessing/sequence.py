"""``keras.preprocessing.sequence``: padding, skip-gram pairs and ``TimeseriesGenerator`` of Keras 2.3.1.

Keras 2.3.1 re-exports keras-preprocessing 1.1.2's ``sequence`` module (its ``TimeseriesGenerator`` made a
``keras.utils.Sequence``); this one gives the same arrays, pairs and batches on the same inputs, and draws its
random numbers from the same generators in the same order, so the same seeds give the same results:
``skipgrams`` uses Python's ``random`` module (and, like keras-preprocessing, re-seeds it when shuffling),
``TimeseriesGenerator(shuffle=True)`` draws its rows with ``np.random.randint``.

Where it differs, it only refuses earlier or does more:
* ``pad_sequences`` checks ``padding`` and ``truncating`` before any work (keras-preprocessing only at the
  first non-empty sequence, so it accepts any value when every sequence is empty), says so clearly when
  ``sequences`` is empty and ``maxlen`` is None (NumPy's "zero-size array" error there), and gives rows of
  length 0 for ``maxlen=0`` (keras-preprocessing's ``s[-0:]`` keeps the whole sequence and fails to broadcast);
* ``TimeseriesGenerator`` refuses a ``sampling_rate``, ``stride`` or ``batch_size`` below 1 when it is built
  (keras-preprocessing fails later, dividing by zero or slicing with step 0).
"""
from __future__ import annotations

import json
import random

import numpy as np

from kerasish.utils.sequence import Sequence


# ---------------------------------------------------------------------------- pad_sequences
def _check_side(argument: str, value) -> None:
    if value not in ("pre", "post"):
        # keras-preprocessing 1.1.2 wording ('Truncating type "x" not understood'), then what to do
        raise ValueError(f'{argument.capitalize()} type "{value}" not understood; `{argument}` must be '
                         f"'pre' or 'post'.")


def _lengths_and_sample_shape(sequences) -> tuple[list, tuple]:
    """Every sequence's length, and the shape of one step (``()`` for scalars) taken from the first non-empty
    sequence."""
    lengths, sample_shape = [], None
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: " + str(sequence)) from None
        if sample_shape is None and lengths[-1]:
            sample_shape = np.asarray(sequence).shape[1:]
    return lengths, sample_shape or ()


def _check_string_value(value, dtype) -> None:
    """A string ``value`` needs a string or object ``dtype`` (keras-preprocessing 1.1.2's check and wording)."""
    if isinstance(value, str) and dtype != object and not np.issubdtype(dtype, np.str_):
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.) -> np.ndarray:
    """Pads (with ``value``) or truncates every sequence to ``maxlen`` steps (default: the longest), giving an
    array ``(len(sequences), maxlen) + step shape`` of ``dtype`` (``object`` for strings of any length).
    ``padding``/``truncating``: ``'pre'`` at the start, ``'post'`` at the end of each sequence."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    _check_side("padding", padding)
    _check_side("truncating", truncating)
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    if maxlen is None:
        if not lengths:
            raise ValueError("pad_sequences: `sequences` is empty and `maxlen` is None, so there is no length to "
                             "pad to; pass `maxlen` to get an array of shape (0, maxlen).")
        maxlen = max(lengths)
    _check_string_value(value, dtype)
    padded = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for position, (sequence, length) in enumerate(zip(sequences, lengths)):
        kept = min(length, maxlen)
        if not kept:
            continue
        steps = np.asarray(sequence[length - kept:] if truncating == "pre" else sequence[:kept], dtype=dtype)
        if steps.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {steps.shape[1:]} of sequence at position {position} is different "
                             f"from expected shape {sample_shape}")
        if padding == "pre":
            padded[position, maxlen - kept:] = steps
        else:
            padded[position, :kept] = steps
    return padded


# ---------------------------------------------------------------------------- skip-grams
def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """Probability of keeping the word of each rank (word2vec's ``min(1, sqrt(factor / frequency))``), with word
    frequencies approximated by Zipf's law: ``1 / frequency(rank) ~ rank * (log(rank) + gamma) + 1/2 -
    1/(12 rank)``. Rank 0 (the non-word) is given rank 1's value."""
    euler_gamma = 0.577  # keras-preprocessing's rounding of the Euler-Mascheroni constant
    rank = np.arange(size)
    rank[0] = 1
    scaled = sampling_factor * (rank * (np.log(rank) + euler_gamma) + 0.5 - 1. / (12. * rank))
    return np.minimum(1., scaled / np.sqrt(scaled))  # f / sqrt(f) rather than sqrt(f): the same bits as Keras


def _positive_pairs(sequence, window_size: int, categorical: bool, sampling_table) -> tuple[list, list]:
    """``[word, neighbour]`` for every non-zero word (kept with probability ``sampling_table[word]``, one
    ``random.random()`` per word) and every non-zero word within ``window_size`` of it."""
    couples, labels = [], []
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    return couples, labels


def skipgrams(sequence, vocabulary_size: int, window_size: int = 4, negative_samples: float = 1.,
              shuffle: bool = True, categorical: bool = False, sampling_table=None, seed=None) -> tuple[list, list]:
    """Skip-gram pairs of a sequence of word indices: ``(couples, labels)``, label 1 (``[0, 1]`` when
    ``categorical``) for a word and a neighbour within ``window_size``, 0 (``[1, 0]``) for
    ``int(negative_samples * positives)`` words paired with a random index in ``[1, vocabulary_size)``.
    Index 0 is a non-word and skipped. Random numbers come from Python's ``random`` module, in
    keras-preprocessing 1.1.2's order; ``shuffle`` seeds that module with ``seed`` (a random one when None)."""
    couples, labels = _positive_pairs(sequence, window_size, categorical, sampling_table)
    if negative_samples > 0:
        negatives = int(len(labels) * negative_samples)
        words = [couple[0] for couple in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, vocabulary_size - 1)] for i in range(negatives)]
        labels += [[1, 0] if categorical else 0 for _ in range(negatives)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10 ** 7)  # keras-preprocessing's randint(0, 10e6), without the float
        # keras-preprocessing seeds, shuffles the couples, seeds again and shuffles the labels: one permutation
        # of positions applied to both is the same draw and leaves `random` in the same state
        random.seed(seed)
        order = list(range(len(couples)))
        random.shuffle(order)
        couples = [couples[i] for i in order]
        labels = [labels[i] for i in order]
    return couples, labels


# ---------------------------------------------------------------------------- TimeseriesGenerator
def _check_positive(argument: str, value) -> None:
    if not (isinstance(value, (int, np.integer)) and value >= 1):
        raise ValueError(f"TimeseriesGenerator: `{argument}` must be an integer >= 1; received {argument}={value!r}.")


def _json_list(values, what: str) -> str:
    if isinstance(values, (np.ndarray, np.generic)):
        values = values.tolist()
    try:
        return json.dumps(values)
    except TypeError:
        raise TypeError(f"{what} not JSON Serializable:", values) from None


class TimeseriesGenerator(Sequence):
    """Batches of windows of a time series (Keras 2.3.1 signature): sample ``i`` of the series is
    ``data[row - length:row:sampling_rate]`` with target ``targets[row]``, for rows ``start_index + length``,
    ``+ stride``, ... up to ``end_index`` (default: the last), ``batch_size`` rows a batch; ``shuffle`` draws
    each batch's rows with ``np.random.randint`` instead; ``reverse`` gives each window latest first.
    A ``Sequence``: ``fit_generator`` takes it as it is."""

    def __init__(self, data, targets, length: int, sampling_rate: int = 1, stride: int = 1, start_index: int = 0,
                 end_index: int | None = None, shuffle: bool = False, reverse: bool = False, batch_size: int = 128):
        if len(data) != len(targets):
            raise ValueError("Data and targets have to be of same length. "
                             f"Data length is {len(data)} while target length is {len(targets)}")
        for argument, value in (("sampling_rate", sampling_rate), ("stride", stride), ("batch_size", batch_size)):
            _check_positive(argument, value)
        first_row = start_index + length
        last_row = len(data) - 1 if end_index is None else end_index
        if first_row > last_row:
            raise ValueError(f"`start_index+length={first_row} > end_index={last_row}` is disallowed, as no part "
                             "of the sequence would be left to be used as current step.")
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = first_row  # keras-preprocessing keeps the first target row under this name
        self.end_index = last_row
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size

    def __len__(self) -> int:
        rows_per_batch = self.batch_size * self.stride
        return (self.end_index - self.start_index + rows_per_batch) // rows_per_batch

    def _batch_rows(self, index: int) -> np.ndarray:
        if self.shuffle:
            return np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        first = self.start_index + self.batch_size * self.stride * index
        return np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)

    def __getitem__(self, index: int):
        rows = self._batch_rows(index)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def get_config(self) -> dict:
        """keras-preprocessing 1.1.2's configuration: data and targets as JSON strings, ``start_index`` as the
        first target row (``start_index + length``)."""
        return {
            "data": _json_list(self.data, "Data"),
            "targets": _json_list(self.targets, "Targets"),
            "length": self.length,
            "sampling_rate": self.sampling_rate,
            "stride": self.stride,
            "start_index": self.start_index,
            "end_index": self.end_index,
            "shuffle": self.shuffle,
            "reverse": self.reverse,
            "batch_size": self.batch_size,
        }

    def to_json(self, **kwargs) -> str:
        """``{"class_name": ..., "config": get_config()}`` as JSON; ``kwargs`` go to ``json.dumps``."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


__all__ = ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator"]
