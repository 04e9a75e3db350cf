"""kerasish.preprocessing.text against keras-preprocessing 1.1.2 (what Keras 2.3.1 re-exports), on the same inputs:
vocabularies with their dictionary orders, sequences, texts, matrices (bit for bit), configurations, errors."""
import hashlib
import json
import warnings

import keras_preprocessing.text as kp
import numpy as np
import pytest

from kerasish.preprocessing import text

TEXTS = [
    "The cat sat on the mat.",
    "The dog ate my homework!! The DOG, again?",
    "",
    "   \t\n  ",
    "Café naïve résumé; CAFÉ",
    "東京 大阪 東京",
    "emoji 🙂 🙂 party 🎉",
    "it's a dog's life -- isn't it",
    "cat cat cat dog",
]
UNSEEN = ["a brand new cat", "", "zebra 🙂 東京", "THE END"]

CONFIGS = {
    "default": {},
    "num_words": dict(num_words=5),
    "oov": dict(oov_token="<OOV>"),
    "oov_and_num_words": dict(oov_token="<OOV>", num_words=6),
    "char_level": dict(char_level=True),
    "char_level_num_words": dict(char_level=True, num_words=8, oov_token="?"),
    "lower_false": dict(lower=False),
    "custom_split": dict(split=",", filters="!.?"),
    "multi_char_split": dict(split="::", filters="."),
}


def fitted(config, texts=TEXTS):
    ours, reference = text.Tokenizer(**config), kp.Tokenizer(**config)
    ours.fit_on_texts(texts)
    reference.fit_on_texts(texts)
    return ours, reference


def assert_same_vocabulary(ours, reference):
    """Equal contents and equal orders (a test of == alone would not see the orders)."""
    for name in ("word_counts", "word_docs", "index_docs", "word_index", "index_word"):
        assert list(getattr(ours, name).items()) == list(getattr(reference, name).items()), name
    assert ours.document_count == reference.document_count
    assert isinstance(ours.word_counts, type(reference.word_counts))


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_fit_on_texts_builds_the_same_vocabulary_in_the_same_orders(config):
    assert_same_vocabulary(*fitted(config))


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_texts_to_sequences_match_with_unknown_words_and_num_words_cut_off(config):
    ours, reference = fitted(config)
    texts = TEXTS + UNSEEN
    assert ours.texts_to_sequences(texts) == reference.texts_to_sequences(texts)
    generated = ours.texts_to_sequences_generator(texts)
    assert iter(generated) is generated  # a generator, one text at a time
    assert list(generated) == reference.texts_to_sequences(texts)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_sequences_to_texts_match_with_cut_off_and_unknown_indices(config):
    ours, reference = fitted(config)
    sequences = reference.texts_to_sequences(TEXTS) + [[], [1, 2, 3, 500, 4], list(range(len(ours.word_index) + 2))]
    assert ours.sequences_to_texts(sequences) == reference.sequences_to_texts(sequences)
    assert list(ours.sequences_to_texts_generator(sequences)) == reference.sequences_to_texts(sequences)


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_texts_to_matrix_equals_keras_preprocessing_bit_for_bit(config, mode):
    ours, reference = fitted(config)
    expected = reference.texts_to_matrix(TEXTS + UNSEEN, mode=mode)
    got = ours.texts_to_matrix(TEXTS + UNSEEN, mode=mode)
    assert got.dtype == expected.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", ["binary", "count", "tfidf", "freq"])
@pytest.mark.parametrize("num_words", [None, 3, 40, 60])
def test_sequences_to_matrix_with_num_words_smaller_and_larger_than_the_indices(num_words, mode):
    # indices up to 49, repeated ones, empty rows; with num_words=3 most entries are cut off, yet 'freq'
    # still divides by the whole sequence's length (keras-preprocessing 1.1.2)
    rng = np.random.RandomState(1)
    sequences = [[int(i) for i in rng.randint(0, 50, rng.randint(0, 30))] for _ in range(12)] + [[], [7, 7, 7]]
    ours, reference = text.Tokenizer(num_words=num_words), kp.Tokenizer(num_words=num_words)
    for tokenizer in (ours, reference):
        tokenizer.fit_on_texts([" ".join(f"w{i}" for i in range(45))])  # a word_index for num_words=None
        tokenizer.fit_on_sequences(sequences[:8])
    assert list(ours.index_docs.items()) == list(reference.index_docs.items())
    np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode=mode),
                                  reference.sequences_to_matrix(sequences, mode=mode))


def test_sequences_to_matrix_of_a_10000_word_vocabulary_matches_for_tfidf():
    rng = np.random.RandomState(0)
    sequences = [[int(i) for i in rng.randint(1, 12000, rng.randint(0, 80))] for _ in range(60)]
    ours, reference = text.Tokenizer(num_words=10000), kp.Tokenizer(num_words=10000)
    ours.fit_on_sequences(sequences[:30])
    reference.fit_on_sequences(sequences[:30])
    for mode in ("binary", "count", "tfidf", "freq"):
        np.testing.assert_array_equal(ours.sequences_to_matrix(sequences, mode),
                                      reference.sequences_to_matrix(sequences, mode))


def test_sequences_to_matrix_of_an_empty_list_and_of_numpy_sequences():
    ours, reference = fitted({})
    width = len(reference.word_index) + 1
    assert ours.sequences_to_matrix([]).shape == reference.sequences_to_matrix([]).shape == (0, width)
    arrays = [np.array([3, 1, 3]), np.array([], dtype=int), np.arange(1, 8)]
    lists = [a.tolist() for a in arrays]  # keras-preprocessing's `if not seq` refuses arrays of several items
    np.testing.assert_array_equal(ours.sequences_to_matrix(arrays, "count"),
                                  reference.sequences_to_matrix(lists, "count"))


def test_fitting_in_two_calls_and_on_lists_of_tokens_and_generators_matches():
    ours, reference = text.Tokenizer(oov_token="<unk>"), kp.Tokenizer(oov_token="<unk>")
    token_lists = [["Hello", "World", "hello"], ["ÉTÉ", "world"], []]
    for tokenizer in (ours, reference):
        tokenizer.fit_on_texts(t for t in TEXTS[:4])
        tokenizer.fit_on_texts(token_lists)
        tokenizer.fit_on_sequences([[1, 2], [2, 2, 9]])
    assert_same_vocabulary(ours, reference)
    assert ours.texts_to_sequences(token_lists + UNSEEN) == reference.texts_to_sequences(token_lists + UNSEEN)


def test_an_oov_token_that_also_occurs_in_the_texts_is_indexed_as_keras_preprocessing_does():
    ours, reference = fitted(dict(oov_token="cat"))
    assert_same_vocabulary(ours, reference)
    assert 1 not in ours.index_word  # dict(zip()): the word's later index wins, index 1 is nobody's
    assert ours.texts_to_sequences(UNSEEN) == reference.texts_to_sequences(UNSEEN)


def test_an_unfitted_tokenizer_behaves_as_keras_preprocessing():
    ours, reference = text.Tokenizer(oov_token="<unk>"), kp.Tokenizer(oov_token="<unk>")
    assert ours.texts_to_sequences(["a b"]) == reference.texts_to_sequences(["a b"]) == [[None, None]]
    assert text.Tokenizer().texts_to_sequences(["a b", ""]) == [[], []]


def test_nb_words_is_accepted_with_keras_preprocessings_warning():
    with pytest.warns(UserWarning) as ours_warnings:
        ours = text.Tokenizer(nb_words=7)
    with pytest.warns(UserWarning) as reference_warnings:
        kp.Tokenizer(nb_words=7)
    assert [str(w.message) for w in ours_warnings] == [str(w.message) for w in reference_warnings]
    assert str(ours_warnings[0].message) == "The `nb_words` argument in `Tokenizer` has been renamed `num_words`."
    assert ours.num_words == 7
    assert ours_warnings[0].filename == __file__  # points at the caller


def test_unknown_keyword_arguments_raise_keras_preprocessings_type_error():
    with pytest.raises(TypeError) as ours, pytest.warns(UserWarning, match="nb_words"):
        text.Tokenizer(num_word=3, nb_words=2)
    with pytest.raises(TypeError) as reference, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kp.Tokenizer(num_word=3, nb_words=2)
    assert str(ours.value) == str(reference.value) == "Unrecognized keyword arguments: {'num_word': 3}"


def error_of(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the test compares whatever both raise
        return type(error), error.args
    raise AssertionError("no error raised")


def test_matrix_errors_equal_keras_preprocessings():
    # no num_words and nothing fitted
    assert error_of(lambda: text.Tokenizer().sequences_to_matrix([[1]])) == \
        error_of(lambda: kp.Tokenizer().sequences_to_matrix([[1]])) == \
        (ValueError, ("Specify a dimension (`num_words` argument), or fit on some text data first.",))
    # tfidf without document counts
    assert error_of(lambda: text.Tokenizer(num_words=5).sequences_to_matrix([[1]], mode="tfidf")) == \
        error_of(lambda: kp.Tokenizer(num_words=5).sequences_to_matrix([[1]], mode="tfidf")) == \
        (ValueError, ("Fit the Tokenizer on some data before using tfidf mode.",))
    # an unknown mode: the same two-argument ValueError
    ours, reference = fitted({})
    assert error_of(lambda: ours.texts_to_matrix(TEXTS, mode="onehot")) == \
        error_of(lambda: reference.texts_to_matrix(TEXTS, mode="onehot")) == \
        (ValueError, ("Unknown vectorization mode:", "onehot"))


def test_an_unknown_mode_is_refused_before_any_work_even_for_empty_sequences():
    # keras-preprocessing only notices at the first word it places
    assert kp.Tokenizer(num_words=4).sequences_to_matrix([[]], mode="onehot").shape == (1, 4)
    with pytest.raises(ValueError, match="Unknown vectorization mode:"):
        text.Tokenizer(num_words=4).sequences_to_matrix([[]], mode="onehot")


def test_negative_word_indices_are_refused_naming_the_sequence():
    with pytest.raises(ValueError, match=r"word indices must be >= 0; sequence 1 holds -2"):
        text.Tokenizer(num_words=4).sequences_to_matrix([[1, 2], [3, -2]])


def test_get_config_and_to_json_equal_keras_preprocessings():
    ours, reference = fitted(dict(num_words=5, oov_token="<OOV>"))
    assert ours.get_config() == reference.get_config()
    assert ours.to_json() == reference.to_json()
    assert ours.to_json(indent=2, ensure_ascii=False) == reference.to_json(indent=2, ensure_ascii=False)
    assert json.loads(ours.to_json())["class_name"] == "Tokenizer"


@pytest.mark.parametrize("source", ["kerasish", "keras_preprocessing"])
def test_tokenizer_from_json_reads_both_json_files_back(source):
    ours, reference = fitted(dict(num_words=6, oov_token="<OOV>"))
    restored = text.tokenizer_from_json((ours if source == "kerasish" else reference).to_json())
    reference_restored = kp.tokenizer_from_json(reference.to_json())
    for name in ("word_counts", "word_docs", "index_docs", "word_index", "index_word"):
        assert list(getattr(restored, name).items()) == list(getattr(reference_restored, name).items()), name
    assert restored.get_config() == reference_restored.get_config()
    assert restored.texts_to_sequences(UNSEEN) == reference.texts_to_sequences(UNSEEN)
    np.testing.assert_array_equal(restored.texts_to_matrix(TEXTS, "tfidf"), reference.texts_to_matrix(TEXTS, "tfidf"))
    # keras-preprocessing's own JSON reader reads ours
    assert kp.tokenizer_from_json(ours.to_json()).get_config() == reference.get_config()


def test_a_tokenizer_read_from_json_keeps_fitting_like_one_fitted_on_everything():
    first, more = TEXTS[:5], TEXTS[5:] + UNSEEN
    restored = text.tokenizer_from_json(fitted({}, first)[0].to_json())
    restored.fit_on_texts(more)
    _, reference_all = fitted({}, first + more)
    for name in ("word_counts", "word_docs", "word_index", "index_word"):
        assert list(getattr(restored, name).items()) == list(getattr(reference_all, name).items()), name
    assert dict(restored.index_docs) == dict(reference_all.index_docs)
    with pytest.raises(KeyError):  # keras-preprocessing restores plain dicts and cannot go on
        kp.tokenizer_from_json(reference_all.to_json()).fit_on_texts(["never seen before"])


@pytest.mark.parametrize("kwargs", [{}, dict(lower=False), dict(split="-", filters=""), dict(filters=list("aeiou")),
                                    dict(split="ab", filters="!")])
def test_text_to_word_sequence_matches(kwargs):
    for sample in TEXTS + ["a-b--c", "Hello!!World", "ÀÉÎ õü ß", "x ab y"]:
        assert text.text_to_word_sequence(sample, **kwargs) == kp.text_to_word_sequence(sample, **kwargs)


def test_hashing_trick_with_md5_is_stable_and_equal():
    sample = "The cat sat on the mat; 東京 🙂 Café"
    got = text.hashing_trick(sample, 17, hash_function="md5")
    assert got == kp.hashing_trick(sample, 17, hash_function="md5")
    # an independent md5 of each lower-cased word (';' filtered out)
    words = ["the", "cat", "sat", "on", "the", "mat", "東京", "🙂", "café"]
    assert got == [int(hashlib.md5(w.encode()).hexdigest(), 16) % 16 + 1 for w in words]


def test_hashing_trick_with_python_hash_and_one_hot_equal_keras_preprocessing_in_one_process():
    # Python's str hash is salted per process: both calls run here, in the same process
    sample = "to be or not to be, 東京 🙂"
    assert text.hashing_trick(sample, 11) == kp.hashing_trick(sample, 11)
    assert text.one_hot(sample, 11) == kp.one_hot(sample, 11)
    assert text.one_hot(sample, 11, lower=False, split=",") == kp.one_hot(sample, 11, lower=False, split=",")
    assert all(1 <= index < 11 for index in text.one_hot(sample, 11))


def test_hashing_trick_with_a_callable():
    assert text.hashing_trick("ab abc a", 4, hash_function=len) == [3, 1, 2]  # len % 3 + 1
    assert text.hashing_trick("", 4, hash_function=len) == []


def test_public_names_are_keras_2_3_1s():
    assert set(text.__all__) == {"text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer",
                                 "tokenizer_from_json"}
    from kerasish import preprocessing
    assert preprocessing.text is text
