"""IMDB movie review sentiment: Keras 2.3.1 ``keras/datasets/imdb.py``."""
from __future__ import annotations

import numpy as np

from kerasish.datasets.text_sequences import (as_keras_array, legacy_num_words, limit_vocabulary, load_word_index,
                                              no_sequence_kept, remove_long_sequences, shift_indices, shuffled)
from kerasish.utils.data_utils import get_file
from kerasish.utils.plain_data import load_npz

ORIGIN = "https://s3.amazonaws.com/text-datasets/imdb.npz"
FILE_HASH = "599dadb1135973df5b59232a0e9a887c"
WORD_INDEX_ORIGIN = "https://s3.amazonaws.com/text-datasets/imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """Loads the IMDB dataset.

    Arguments:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep the words of rank < ``num_words`` (after the ``index_from`` shift); the others become
            ``oov_char``.
        skip_top: also replace the indices below ``skip_top`` (the most frequent words).
        maxlen: drop the reviews of ``maxlen`` words or more (counting ``start_char``).
        seed: seed of the shuffles (the training set, then the test set, with one ``RandomState``).
        start_char: the index that starts every review (None: none).
        oov_char: the index of words cut by ``num_words``/``skip_top`` (None: they are dropped).
        index_from: the offset added to every word rank.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x an object array of lists of ints, y int arrays.

    Raises:
        ValueError: when ``maxlen`` leaves no review.

    As Keras 2.3.1, the training/test split after the ``maxlen`` filter is at the original number of training
    reviews, so with ``maxlen`` some test reviews end up in ``x_train`` (tf.keras filters each set apart).
    """
    num_words = legacy_num_words(num_words, kwargs)
    path = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(path, ["x_train", "y_train", "x_test", "y_test"])
    rng = np.random.RandomState(seed)
    x_train, labels_train = shuffled(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = shuffled(rng, arrays["x_test"], arrays["y_test"])
    xs = shift_indices(np.concatenate([x_train, x_test]), start_char, index_from)
    labels = np.concatenate([labels_train, labels_test])
    if maxlen:
        xs, labels = remove_long_sequences(maxlen, xs, labels)
        if not xs:
            raise no_sequence_kept(maxlen)
    xs = limit_vocabulary(xs, num_words, skip_top, oov_char)
    split = len(x_train)
    return ((as_keras_array(xs[:split]), np.array(labels[:split])),
            (as_keras_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="imdb_word_index.json"):
    """The dict word -> rank (1 = most frequent) behind the indices of ``load_data`` (before ``index_from``).

    Arguments:
        path: where to cache the data (relative to ``~/.keras/datasets``).
    """
    return load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
