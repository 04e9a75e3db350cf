"""Reuters newswire topics: Keras 2.3.1 ``keras/datasets/reuters.py``."""
from __future__ import annotations

import numpy as np

from kerasish.datasets.text_sequences import (as_keras_array, legacy_num_words, limit_vocabulary, load_word_index,
                                              no_sequence_kept, remove_long_sequences, shift_indices, shuffled)
from kerasish.utils.data_utils import get_file
from kerasish.utils.plain_data import load_npz

ORIGIN = "https://s3.amazonaws.com/text-datasets/reuters.npz"
FILE_HASH = "87aedbeb0cb229e378797a632c1997b6"
WORD_INDEX_ORIGIN = "https://s3.amazonaws.com/text-datasets/reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the Reuters newswire classification dataset.

    Arguments:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep the words of rank < ``num_words`` (after the ``index_from`` shift); the others become
            ``oov_char``.
        skip_top: also replace the indices below ``skip_top`` (the most frequent words).
        maxlen: drop the newswires of ``maxlen`` words or more (counting ``start_char``).
        test_split: the fraction of newswires (the last ones after shuffling) used as test data.
        seed: seed of the shuffle.
        start_char: the index that starts every newswire (None: none).
        oov_char: the index of words cut by ``num_words``/``skip_top`` (None: they are dropped).
        index_from: the offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x an object array of lists of ints, y int arrays.
    """
    num_words = legacy_num_words(num_words, kwargs)
    if not 0 <= test_split <= 1:
        raise ValueError(f"reuters.load_data: test_split must be in [0, 1]; received {test_split!r}.")
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(path, ["x", "y"])
    xs, labels = shuffled(np.random.RandomState(seed), arrays["x"], arrays["y"])
    xs = shift_indices(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_sequences(maxlen, xs, labels)
        if not xs and not num_words:  # Keras 2.3.1 fails there on max() of nothing
            raise no_sequence_kept(maxlen)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    return ((as_keras_array(xs[:split]), np.array(labels[:split])),
            (as_keras_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The dict word -> rank (1 = most frequent) behind the indices of ``load_data`` (before ``index_from``).

    Arguments:
        path: where to cache the data (relative to ``~/.keras/datasets``).
    """
    return load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
