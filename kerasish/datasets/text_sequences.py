"""The post-processing IMDB and Reuters share, step by step as Keras 2.3.1 ``keras/datasets/imdb.py`` and
``reuters.py`` write it: the files store each text as a list of word ranks (1 = most frequent word); the
loaders shuffle, shift the ranks by ``index_from`` behind a ``start_char``, drop long texts, and replace the
ranks outside ``[skip_top, num_words)`` by ``oov_char`` (or drop them).
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from kerasish.utils.data_utils import get_file


def legacy_num_words(num_words, kwargs: dict):
    """Keras 2.3.1: ``nb_words`` is the old name of ``num_words`` (a warning); any other keyword is an error."""
    kwargs = dict(kwargs)
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.", stacklevel=3)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
    return num_words


def shuffled(rng: np.random.RandomState, xs: np.ndarray, labels: np.ndarray):
    """Texts and labels in the order of ``rng.shuffle(np.arange(n))``."""
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return xs[indices], labels[indices]


def shift_indices(xs, start_char, index_from):
    """``[start_char] + [w + index_from ...]`` per text; without ``start_char`` only the shift (if any)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return xs


def remove_long_sequences(maxlen, xs, labels):
    """Keeps the texts shorter than ``maxlen`` (strictly: Keras's ``_remove_long_seq``) and their labels."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def no_sequence_kept(maxlen) -> ValueError:
    return ValueError("After filtering for sequences shorter than maxlen=" + str(maxlen) + ", no sequence was kept. "
                      "Increase maxlen.")


def limit_vocabulary(xs, num_words, skip_top, oov_char):
    """Ranks outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped when it is None).

    Without ``num_words`` the limit is the largest index present, which is itself excluded (Keras 2.3.1)."""
    if not num_words:
        num_words = max([max(x) for x in xs])
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def as_keras_array(sequences) -> np.ndarray:
    """``np.array(sequences)`` as the NumPy of Keras 2.3.1 made it: a 2-D array when all texts have the same
    length, else a 1-D object array of lists (NumPy >= 1.24 refuses ragged lists)."""
    if len({len(x) for x in sequences}) <= 1:
        return np.array(sequences)
    array = np.empty(len(sequences), dtype=object)
    for i, x in enumerate(sequences):
        array[i] = x
    return array


def load_word_index(path, origin, file_hash) -> dict:
    """The JSON dict word -> rank that ``get_word_index`` returns, fetched with ``get_file``."""
    with open(get_file(path, origin=origin, file_hash=file_hash)) as file:
        return json.load(file)
