"""``keras.preprocessing.text``: ``Tokenizer`` and the text helpers of Keras 2.3.1 (keras-preprocessing 1.1.2).

Keras 2.3.1 re-exports keras-preprocessing 1.1.2's ``text`` module; this one gives the same results on the same
inputs, dictionary orders included (``word_counts`` in first-seen order, ``word_index`` by falling count with
ties in first-seen order, ``word_docs`` in the order of each text's ``set`` of tokens, which follows Python's
per-process string hashing exactly as keras-preprocessing's does). Errors and warnings keep its wording.

Where it differs, it only does more:
* ``sequences_to_matrix`` (and so ``texts_to_matrix``) is vectorised: all word indices of the batch go into one
  flat array of cell positions (row * num_words + index), written or counted (``np.add.at``) in one NumPy call
  each, instead of a Python dictionary per sequence and one item assignment per cell. The values are the same
  float64 operations, so the matrices are equal bit for bit. It checks ``mode`` before any work
  (keras-preprocessing only fails at the first word it places) and refuses negative word indices, which
  keras-preprocessing writes into the columns counted from the end;
* a tokenizer read back by ``tokenizer_from_json`` can go on fitting (keras-preprocessing restores plain dicts,
  and its next ``fit_on_texts`` fails with a KeyError on the first new word).
"""
from __future__ import annotations

import itertools
import json
import warnings
from collections import OrderedDict, defaultdict
from hashlib import md5
from typing import Callable, Iterable, Iterator

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(text: str, filters=DEFAULT_FILTERS, lower: bool = True, split: str = " ") -> list:
    """Converts a text to a list of words: lower-cased (``lower``), every character of ``filters`` replaced by
    ``split``, split on ``split``, empty pieces dropped."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans(dict.fromkeys(filters, split)))
    return [word for word in text.split(split) if word]


def one_hot(text: str, n: int, filters=DEFAULT_FILTERS, lower: bool = True, split: str = " ") -> list:
    """``hashing_trick`` with Python's ``hash``: word indices in ``[1, n)``, not unique, and (hash being salted
    per process) not the same from one run to the next."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split)


def _md5_hash(word: str) -> int:
    return int(md5(word.encode()).hexdigest(), 16)


def hashing_trick(text: str, n: int, hash_function: Callable | str | None = None, filters=DEFAULT_FILTERS,
                  lower: bool = True, split: str = " ") -> list:
    """Each word of ``text`` as ``hash_function(word) % (n - 1) + 1`` (0 stays reserved). ``hash_function``:
    None for Python's ``hash`` (salted per process), ``'md5'`` for a hash stable across runs, or a callable
    from a string to an int."""
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5_hash
    words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    return [hash_function(word) % (n - 1) + 1 for word in words]


def _check_no_negative_index(indices: np.ndarray, rows: np.ndarray) -> None:
    if indices.size and indices.min() < 0:
        first = int(np.argmax(indices < 0))
        raise ValueError(f"sequences_to_matrix: word indices must be >= 0; sequence {int(rows[first])} holds "
                         f"{int(indices[first])}. Index 0 is reserved and words are numbered from 1.")


class Tokenizer:
    """Text tokenization utility class (Keras 2.3.1 signature).

    ``num_words``: only words with an index below ``num_words`` (the ``num_words - 1`` most frequent) are used by
    ``texts_to_sequences`` and the matrices; ``oov_token``: given index 1 and put in place of unknown (and cut-off)
    words; ``char_level``: every character is a token. Index 0 is reserved and never assigned to a word.
    """

    def __init__(self, num_words: int | None = None, filters=DEFAULT_FILTERS, lower: bool = True, split: str = " ",
                 char_level: bool = False, oov_token: str | None = None, document_count: int = 0, **kwargs):
        if "nb_words" in kwargs:  # Keras 1's name, still accepted by keras-preprocessing 1.1.2 with this warning
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.", stacklevel=2)
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    # ------------------------------------------------------------------ fitting
    def _tokens(self, text):
        """A text's tokens: a list is taken as tokens and, with ``char_level``, a string as its characters (both
        only lower-cased, never filtered or split: keras-preprocessing 1.1.2); otherwise the filtered words."""
        if self.char_level or isinstance(text, list):
            if not self.lower:
                return text
            return [token.lower() for token in text] if isinstance(text, list) else text.lower()
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable) -> None:
        """Updates the vocabulary from ``texts`` (strings, or lists of tokens; any iterable, a generator too)."""
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            for token in set(tokens):  # the set's order decides word_docs' order, as in keras-preprocessing
                self.word_docs[token] += 1
        self._index_vocabulary()

    def _index_vocabulary(self) -> None:
        # sorted() is stable with reverse=True too: words of equal count keep their first-seen order
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in by_count]
        # dict(zip()) as keras-preprocessing: an oov_token that also occurs as a word keeps its first slot but
        # takes the word's index, and index 1 is then nobody's
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {index: word for word, index in self.word_index.items()}
        for word, docs in list(self.word_docs.items()):
            self.index_docs[self.word_index[word]] = docs

    def fit_on_sequences(self, sequences) -> None:
        """Updates the document frequencies (``index_docs``, ``document_count``) from sequences of word indices,
        for ``sequences_to_matrix(mode='tfidf')`` without ``fit_on_texts``."""
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1

    # ------------------------------------------------------------------ texts <-> sequences
    def texts_to_sequences(self, texts: Iterable) -> list:
        """Each text as a list of word indices (only words below ``num_words``; unknown ones dropped, or
        replaced by ``oov_token``'s index when there is one)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable) -> Iterator[list]:
        """``texts_to_sequences``, one text at a time."""
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            sequence = []
            for token in self._tokens(text):
                index = self.word_index.get(token)
                if index is None:
                    if self.oov_token is not None:
                        sequence.append(oov_index)  # None before any fit, as in keras-preprocessing 1.1.2
                elif self.num_words and index >= self.num_words:
                    if oov_index is not None:
                        sequence.append(oov_index)
                else:
                    sequence.append(index)
            yield sequence

    def sequences_to_texts(self, sequences: Iterable) -> list:
        """Each sequence of word indices back to a text: its known words, joined by spaces (indices at or above
        ``num_words``, and unknown ones, become ``oov_token`` where there is one, else are dropped)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences: Iterable) -> Iterator[str]:
        """``sequences_to_texts``, one sequence at a time."""
        oov_index = self.word_index.get(self.oov_token)
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(index)
                if word is None:
                    if self.oov_token is not None:
                        words.append(self.index_word[oov_index])
                elif self.num_words and index >= self.num_words:
                    if oov_index is not None:
                        words.append(self.index_word[oov_index])
                else:
                    words.append(word)
            yield " ".join(words)

    # ------------------------------------------------------------------ matrices
    def texts_to_matrix(self, texts: Iterable, mode: str = "binary") -> np.ndarray:
        """``sequences_to_matrix`` of ``texts_to_sequences(texts)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def _matrix_width(self) -> int:
        if self.num_words:
            return self.num_words
        if not self.word_index:
            raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
        return len(self.word_index) + 1

    def sequences_to_matrix(self, sequences, mode: str = "binary") -> np.ndarray:
        """A float64 matrix ``(len(sequences), num_words)``: per sequence and word index below ``num_words``,
        ``'binary'`` 1, ``'count'`` its count c, ``'freq'`` c / the sequence's full length, ``'tfidf'``
        ``(1 + log c) * log(1 + document_count / (1 + index_docs[j]))`` (weighting scheme 2 of Wikipedia's
        tf-idf article, as keras-preprocessing 1.1.2)."""
        width = self._matrix_width()
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        if mode not in MATRIX_MODES:
            raise ValueError("Unknown vectorization mode:", mode)  # two arguments: keras-preprocessing's error
        sequences = list(sequences)
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        indices = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths)
        _check_no_negative_index(indices, rows)
        kept = indices < width  # indices at or above num_words are left out (but still count in 'freq' lengths)
        rows, columns = rows[kept], indices[kept]
        matrix = np.zeros((len(sequences), width))
        cells = matrix.reshape(-1)  # a view: cell (row, column) is cells[row * width + column]
        positions = rows * width + columns
        if mode == "binary":
            cells[positions] = 1.0
            return matrix
        # counts first (np.add.at adds once per occurrence; with an array of ones it takes NumPy's fast path),
        # then every occurrence of a cell reads the same count and writes the same value
        np.add.at(cells, positions, np.ones(len(positions)))
        if mode == "freq":
            cells[positions] = cells[positions] / lengths[rows]
        elif mode == "tfidf":
            cells[positions] = (1 + np.log(cells[positions])) * self._idf(width)[columns]
        return matrix

    def _idf(self, width: int) -> np.ndarray:
        """``log(1 + document_count / (1 + docs))`` per column; words without a document count have docs 0."""
        words = np.fromiter(self.index_docs.keys(), dtype=np.int64, count=len(self.index_docs))
        docs = np.fromiter(self.index_docs.values(), dtype=np.int64, count=len(self.index_docs))
        in_matrix = (words >= 0) & (words < width)
        docs_per_column = np.zeros(width, dtype=np.int64)
        docs_per_column[words[in_matrix]] = docs[in_matrix]
        return np.log(1 + self.document_count / (1 + docs_per_column))

    # ------------------------------------------------------------------ configuration
    def get_config(self) -> dict:
        """The constructor's arguments and the vocabulary, each dictionary as a JSON string (keras-preprocessing
        1.1.2's layout, so its ``tokenizer_from_json`` reads it too)."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs) -> str:
        """``{"class_name": "Tokenizer", "config": get_config()}`` as JSON; ``kwargs`` go to ``json.dumps``."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """A ``Tokenizer`` from ``Tokenizer.to_json()`` (ours or keras-preprocessing 1.1.2's)."""
    config = json.loads(json_string).get("config")
    word_counts = json.loads(config.pop("word_counts"), object_pairs_hook=OrderedDict)
    word_docs = json.loads(config.pop("word_docs"))
    # JSON object keys are strings: the integer word indices come back as ints
    index_docs = {int(index): docs for index, docs in json.loads(config.pop("index_docs")).items()}
    index_word = {int(index): word for index, word in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = word_counts
    tokenizer.word_docs = defaultdict(int, word_docs)
    tokenizer.index_docs = defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer


__all__ = ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer", "tokenizer_from_json"]
