"""Every batch of every source is checked against the model (issue 15): structure, shapes, dtypes and lengths,
with Keras-style messages that name the argument and the batch, raised before the bad batch touches a weight.

Expected messages are Keras 2.3.1's standardize_input_data / check_array_length_consistency wording (the same
the array path uses), prefixed with the call and the batch. "Weights unchanged" is checked against the weights
recorded after the last good batch (a callback), so the failed batch provably applied nothing.
"""
import numpy as np
import pytest

from kerasish import backend as K
from kerasish.callbacks import Callback
from kerasish.layers import Dense, Input, concatenate
from kerasish.models import Model, Sequential
from kerasish.optimizers import SGD
from kerasish.preprocessing.image import ImageDataGenerator

from helpers import ListSequence

FEATURES, OUTPUTS, ROWS = 3, 2, 4


def dense_model(loss="mse"):
    model = Sequential([Dense(OUTPUTS, input_shape=(FEATURES,))])
    model.compile(SGD(lr=0.1), loss)
    return model


def batch(rows=ROWS, width=FEATURES, y_width=OUTPUTS, y_rows=None, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.randn(rows, width).astype("float32"),
            rng.randn(rows if y_rows is None else y_rows, y_width).astype("float32"))


class WeightsAfterEachBatch(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


def assert_weights_equal(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def fit_until_error(model, source, steps, error, match, **loading):
    recorder = WeightsAfterEachBatch()
    before = model.get_weights() if model.built else None  # None: built by the fit, from batch 0
    with pytest.raises(error, match=match):
        model.fit_generator(source, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[recorder], shuffle=False,
                            **loading)
    assert_weights_equal(model.get_weights(), recorder.weights[-1] if recorder.weights else before)
    return recorder


# ------------------------------------------------------------------------------ later batches of a generator
def test_later_generator_batch_with_another_feature_width_names_the_batch_and_trains_nothing_on_it():
    model = dense_model()
    recorder = fit_until_error(
        model, iter([batch(), batch(seed=1), batch(width=5)]), 3, ValueError,
        r"^fit_generator \(generator batch 2, counting from 0\): Error when checking input: expected "
        r"dense_\d+_input to have shape \(3,\) but got array with shape \(5,\)$")
    assert len(recorder.weights) == 2  # the two good batches trained


def test_model_built_from_the_first_batch_checks_the_later_ones_against_it():
    model = Sequential([Dense(OUTPUTS)])  # no input_shape: built from generator batch 0
    model.compile(SGD(lr=0.1), "mse")
    fit_until_error(model, iter([batch(), batch(width=4)]), 2, ValueError,
                    r"^fit_generator \(generator batch 1, counting from 0\): Error when checking input: expected "
                    r"dense_\d+_input to have shape \(3,\) but got array with shape \(4,\)$")
    assert model.built


def test_later_generator_batch_with_another_target_width_names_y_and_the_batch():
    model = dense_model()
    recorder = fit_until_error(
        model, iter([batch(), batch(y_width=5)]), 2, ValueError,
        r"^fit_generator \(generator batch 1, counting from 0\): y: A target array with shape \(4, 5\) was "
        r"passed for an output of shape \(None, 2\) while using as loss `mean_squared_error`")
    assert len(recorder.weights) == 1


def test_later_generator_batch_with_x_and_y_of_different_lengths_is_keras_length_error():
    model = dense_model()
    fit_until_error(
        model, iter([batch(), batch(y_rows=2)]), 2, ValueError,
        r"^fit_generator \(generator batch 1, counting from 0\): Input arrays should have the same number of "
        r"samples as target arrays. Found 4 input samples and 2 target samples.$")


def test_sample_weight_of_another_length_in_a_later_batch_names_sample_weight():
    model = dense_model()
    x, y = batch()
    fit_until_error(model, iter([(x, y, np.ones(4)), (x, y, np.ones(3))]), 2, ValueError,
                    r"generator batch 1, counting from 0\): sample_weight has 3 entries but x has 4 samples")


def test_fit_with_a_generator_as_x_checks_later_batches_too():
    model = dense_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"generator batch 0, counting from 0\): Error when checking input: "
                                         r"expected dense_\d+_input to have 2 dimensions, but got array with "
                                         r"shape \(4, 3, 1\)"):
        model.fit(iter([(np.zeros((4, 3, 1), "float32"), np.zeros((4, 2), "float32"))]), steps_per_epoch=1,
                  verbose=0)
    assert_weights_equal(model.get_weights(), before)


def test_empty_later_batch_is_an_error_naming_x():
    model = dense_model()
    fit_until_error(model, iter([batch(), batch(rows=0, y_rows=0)]), 2, ValueError,
                    r"generator batch 1, counting from 0\): x is empty \(0 samples\)")


def test_batch_of_strings_is_a_type_error_naming_x_and_the_batch():
    model = dense_model()
    x, y = batch()
    fit_until_error(model, iter([(x, y), (x.astype(str), y)]), 2, TypeError,
                    r"generator batch 1, counting from 0\): x must hold numbers; received an array of dtype <U")


def test_later_batch_missing_an_input_of_a_two_input_model_names_the_input():
    a, b = Input((2,), name="a"), Input((1,), name="b")
    model = Model([a, b], Dense(OUTPUTS)(concatenate([a, b])))
    model.compile(SGD(lr=0.1), "mse")
    x, y = batch()
    good = ({"a": x[:, :2], "b": x[:, 2:]}, y)
    bad = ({"a": x[:, :2], "bb": x[:, 2:]}, y)
    fit_until_error(model, iter([good, bad]), 2, ValueError,
                    r'generator batch 1, counting from 0\): No data provided for "b". Need data for each key '
                    r"in: \['a', 'b'\]")


def test_wrong_feature_width_in_a_later_batch_of_evaluate_and_predict_generator():
    model = dense_model()
    with pytest.raises(ValueError, match=r"^evaluate_generator \(generator batch 1, counting from 0\): Error when "
                                         r"checking input"):
        model.evaluate_generator(iter([batch(), batch(width=4)]), steps=2)
    with pytest.raises(ValueError, match=r"^predict_generator \(generator batch 1, counting from 0\): Error when "
                                         r"checking input"):
        model.predict_generator(iter([batch()[0], batch(width=4)[0]]), steps=2)


def test_sparse_labels_are_shape_checked_on_every_batch():
    model = Sequential([Dense(3, input_shape=(FEATURES,), activation="softmax")])
    model.compile(SGD(lr=0.1), "sparse_categorical_crossentropy")
    x = np.zeros((4, FEATURES), "float32")
    fit_until_error(model, iter([(x, np.zeros(4)), (x, np.zeros((4, 3)))]), 2, ValueError,
                    r"generator batch 1, counting from 0\): y: .*This loss expects integer class indices of shape "
                    r"\(samples,\) \+ \(\) or \(samples,\) \+ \(1,\), not one-hot vectors")


def test_batch_without_targets_is_an_error_unless_the_model_has_only_added_losses():
    model = dense_model()
    x, y = batch()
    fit_until_error(model, iter([(x, y), (x, None)]), 2, ValueError,
                    r"generator batch 1, counting from 0\): y is None, but the model's loss needs targets")
    inputs = Input((FEATURES,))
    outputs = Dense(FEATURES)(inputs)
    autoencoder = Model(inputs, outputs)
    autoencoder.add_loss(K.mean(K.square(outputs - inputs)))
    autoencoder.compile(SGD(lr=0.1))
    history = autoencoder.fit_generator(iter([(x, None)] * 3), steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 1


# ------------------------------------------------------------------------------ Sequences and image iterators
@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (2, False)])
def test_bad_sequence_item_is_named_by_its_index(workers, use_multiprocessing):
    model = dense_model()
    sequence = ListSequence([batch(), batch(seed=1), batch(width=4), batch()])
    recorder = fit_until_error(model, sequence, None, ValueError, workers=workers,
                               use_multiprocessing=use_multiprocessing, match=
                               r"^fit_generator \(ListSequence\[2\]\): Error when checking input: expected "
                               r"dense_\d+_input to have shape \(3,\) but got array with shape \(4,\)$")
    assert len(recorder.weights) == 2


def test_bad_sequence_item_is_named_by_its_index_when_shuffled():
    model = dense_model()
    sequence = ListSequence([batch(seed=i) for i in range(5)] + [batch(y_width=3)])
    with pytest.raises(ValueError, match=r"^fit_generator \(ListSequence\[5\]\): y: A target array with shape"):
        model.fit_generator(sequence, epochs=1, verbose=0, shuffle=True)


def test_image_iterator_batch_with_targets_of_another_width_names_the_iterator_index():
    model = Sequential([Dense(OUTPUTS, input_shape=(4, 4, 1))])  # output (None, 4, 4, 2)
    model.compile(SGD(lr=0.1), "mse")
    images = np.zeros((8, 4, 4, 1), "float32")
    flow = ImageDataGenerator().flow(images, np.zeros((8, 5), "float32"), batch_size=4, shuffle=False)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^fit_generator \(NumpyArrayIterator\[0\]\): y: A target array with "
                                         r"shape \(4, 5\) was passed for an output of shape \(None, 4, 4, 2\)"):
        model.fit_generator(flow, epochs=1, verbose=0, shuffle=False)
    assert_weights_equal(model.get_weights(), before)


# ------------------------------------------------------------------------------ empty and short sources
@pytest.mark.parametrize("built", [False, True])
def test_generator_that_yields_nothing_is_a_clear_error_before_training(built, capsys):
    model = dense_model()
    if built:
        model.fit_generator(iter([batch()]), steps_per_epoch=1, verbose=0)
    before = model.get_weights()
    for call in (lambda: model.fit_generator(iter([]), steps_per_epoch=2, epochs=3, verbose=1),
                 lambda: model.evaluate_generator(iter([]), steps=2),
                 lambda: model.predict_generator(iter([]), steps=2)):
        with pytest.raises(ValueError, match=r"_generator: generator yielded no batches \(it is empty or already "
                                             r"exhausted\)"):
            call()
    assert "Epoch 1/3" not in capsys.readouterr().out
    assert_weights_equal(model.get_weights(), before)


def test_empty_validation_generator_names_validation_data():
    model = dense_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^fit_generator: validation_data yielded no batches"):
        model.fit_generator(iter([batch()]), steps_per_epoch=1, validation_data=iter([]), validation_steps=1,
                            verbose=0)
    assert_weights_equal(model.get_weights(), before)


def test_empty_sequence_is_an_error_in_fit_and_evaluate_generator(capsys):
    model = dense_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^fit_generator: generator is an empty ListSequence \(len\(\) is 0\); "
                                         r"it must hold at least one batch.$"):
        model.fit_generator(ListSequence([]), epochs=3, verbose=1)
    assert "Epoch 1/3" not in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"^evaluate_generator: generator is an empty ListSequence"):
        model.evaluate_generator(ListSequence([]))
    with pytest.raises(ValueError, match=r"^evaluate_generator: generator is an empty ListSequence"):
        model.evaluate(ListSequence([]), verbose=0)
    assert_weights_equal(model.get_weights(), before)


def test_evaluate_generator_on_a_generator_that_runs_out_is_an_error_as_in_keras():
    # Keras 2.3.1 training_generator.evaluate_generator lets the generator's StopIteration out; we say why.
    model = dense_model()
    with pytest.raises(ValueError, match=r"^evaluate_generator: the generator ran out of data after 2 batches, "
                                         r"but steps=5 asks for 5"):
        model.evaluate_generator(iter([batch(), batch()]), steps=5)
    with pytest.raises(ValueError, match=r"^predict_generator: the generator ran out of data after 1 batches, "
                                         r"but steps=3 asks for 3"):
        model.predict_generator(iter([batch()[0]]), steps=3)


def test_validation_generator_that_runs_out_is_an_error_naming_validation_steps():
    model = dense_model()
    with pytest.raises(ValueError, match=r"^fit_generator: the generator ran out of data after 1 batches, but "
                                         r"validation_steps=2 asks for 2"):
        model.fit_generator(iter([batch()] * 3), steps_per_epoch=1, validation_data=iter([batch()]),
                            validation_steps=2, verbose=0)


# ------------------------------------------------------------------------------ single batches
def test_on_batch_methods_name_the_argument_and_leave_the_weights():
    model = dense_model()
    model.train_on_batch(*batch())
    before = model.get_weights()
    x, y = batch()
    with pytest.raises(ValueError, match=r"^train_on_batch: Error when checking input: expected dense_\d+_input to "
                                         r"have shape \(3,\) but got array with shape \(5,\)$"):
        model.train_on_batch(np.zeros((4, 5), "float32"), y)
    with pytest.raises(ValueError, match=r"^train_on_batch: y: A target array with shape \(4, 5\)"):
        model.train_on_batch(x, np.zeros((4, 5), "float32"))
    with pytest.raises(ValueError, match=r"^test_on_batch: Input arrays should have the same number of samples as "
                                         r"target arrays. Found 4 input samples and 2 target samples.$"):
        model.test_on_batch(x, y[:2])
    with pytest.raises(ValueError, match=r"^predict_on_batch: Error when checking input: expected dense_\d+_input "
                                         r"to have 2 dimensions, but got array with shape \(4,\)$"):
        model.predict_on_batch(np.zeros(4, "float32"))
    assert_weights_equal(model.get_weights(), before)


# ------------------------------------------------------------------------------ sizes the model leaves open
def sequence_model():
    from kerasish.layers import LSTM, TimeDistributed
    model = Sequential([LSTM(4, return_sequences=True, input_shape=(None, 3)), TimeDistributed(Dense(OUTPUTS))])
    model.compile(SGD(lr=0.1), "mse")
    return model


def test_target_of_another_length_than_the_output_on_an_open_time_axis_is_keras_target_error():
    # The model's time axis is None, so only the output of this batch tells the size y must have: the torch
    # error from inside the loss becomes Keras's "Error when checking target", chained to it.
    model = sequence_model()
    x, y = np.zeros((4, 5, 3), "float32"), np.zeros((4, 5, OUTPUTS), "float32")
    long_y = np.zeros((4, 6, OUTPUTS), "float32")
    recorder = WeightsAfterEachBatch()
    with pytest.raises(ValueError, match=r"^fit_generator \(step 1 of epoch 1\): Error when checking target: expected "
                                         r"time_distributed_\d+ to have shape \(5, 2\) for this batch's input but "
                                         r"got array with shape \(6, 2\)$") as caught:
        model.fit_generator(iter([(x, y), (x, long_y)]), steps_per_epoch=2, verbose=0, callbacks=[recorder])
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert_weights_equal(model.get_weights(), recorder.weights[-1])
    before = model.get_weights()
    for call, name in ((lambda: model.fit(x, long_y, verbose=0), r"fit \(step 0 of epoch 1\)"),
                       (lambda: model.evaluate(x, long_y, verbose=0), r"evaluate \(step 0\)"),
                       (lambda: model.train_on_batch(x, long_y), "train_on_batch")):
        with pytest.raises(ValueError, match=f"^{name}: Error when checking target: expected time_distributed"):
            call()
    assert_weights_equal(model.get_weights(), before)


# ------------------------------------------------------------------------------ batches of torch tensors
# After a batch of tensors passes, a batch with the same shapes past the batch axis, dtypes and devices is
# converted as it was without the whole walk (standardize.py ``BatchPreparer._repeated``): anything else must
# still meet every check, with the same messages.
def as_tensors(*arrays):
    import torch
    return tuple(torch.from_numpy(np.asarray(a)) for a in arrays)


@pytest.mark.parametrize("bad, match", [
    (as_tensors(*batch(width=5)), r"generator batch 2, counting from 0\): Error when checking input: expected "
                                  r"dense_\d+_input to have shape \(3,\) but got array with shape \(5,\)$"),
    (as_tensors(*batch(y_width=5)), r"generator batch 2, counting from 0\): y: A target array with shape \(4, 5\)"),
    (as_tensors(*batch(y_rows=2)), r"generator batch 2, counting from 0\): Input arrays should have the same "
                                   r"number of samples as target arrays. Found 4 input samples and 2 target"),
    (as_tensors(*batch(), np.ones(3, "float32")), r"batch 2, counting from 0\): sample_weight has 3 entries"),
    (as_tensors(*batch(rows=0)), r"generator batch 2, counting from 0\): x is empty"),
    (as_tensors(batch()[0][:, :, None], batch()[1]), r"generator batch 2, counting from 0\): Error when checking "
                                                       r"input: expected dense_\d+_input to have 2 dimensions"),
])
def test_tensor_batches_after_good_ones_meet_every_check(bad, match):
    good = [as_tensors(*batch()), as_tensors(*batch(seed=1))]
    recorder = fit_until_error(dense_model(), iter(good + [bad]), 3, (ValueError, TypeError), match)
    assert len(recorder.weights) == 2


def test_tensor_batches_train_as_their_array_twins_with_casts_reshapes_weights_and_class_weights():
    """float64 inputs and targets (cast), (n,) targets of a one-unit output (reshaped), sample weights, and
    class weights (which make new weights every batch, so they take the whole walk)."""
    rng = np.random.RandomState(3)
    batches = [(rng.randn(4, FEATURES), rng.randint(0, 2, 4).astype("float64"), rng.rand(4)) for _ in range(4)]

    def fitted(source, **kwargs):
        model = Sequential([Dense(1, activation="sigmoid", input_shape=(FEATURES,))])
        model.compile(SGD(lr=0.5), "binary_crossentropy")
        model.set_weights([np.full((FEATURES, 1), 0.1, "float32"), np.zeros(1, "float32")])
        model.fit_generator(iter(source), steps_per_epoch=len(batches), epochs=1, verbose=0, shuffle=False,
                            **kwargs)
        return model.get_weights()

    plain_batches = [(x, y) for x, y, _ in batches]
    for source, kwargs in ((batches, {}), (plain_batches, {"class_weight": {0: 1.0, 1: 3.0}})):
        assert_weights_equal(fitted([as_tensors(*b) for b in source], **kwargs), fitted(source, **kwargs))


def test_like_tensor_batches_take_the_whole_walk_once_and_array_batches_every_time(monkeypatch):
    from kerasish.training.data_adapters import standardize
    walks = []
    original = standardize.BatchPreparer._standardize

    def counting(self, raw, key, first):
        walks.append(key)
        return original(self, raw, key, first)

    monkeypatch.setattr(standardize.BatchPreparer, "_standardize", counting)
    tensor_batches = [as_tensors(*batch(seed=i)) for i in range(4)] + [as_tensors(*batch(rows=3)),
                                                                       as_tensors(*batch(width=5))]
    with pytest.raises(ValueError, match="batch 5"):
        dense_model().fit_generator(iter(tensor_batches), steps_per_epoch=6, epochs=1, verbose=0)
    assert walks == [0, 5]  # a 3-row batch is like the others; the wider one is checked (and refused)
    walks.clear()
    dense_model().fit_generator(iter([batch(seed=i) for i in range(3)]), steps_per_epoch=3, epochs=1, verbose=0)
    assert walks == [0, 1, 2]


def test_tensor_batches_that_require_grad_train_detached_on_the_fast_path_too():
    """A batch of tensors that require grad (a user's upstream module's output) is data: training reads it
    without recording into it, the first batch (whole walk) and the later ones (converted as the first) alike."""
    import torch
    batches = [tuple(t.requires_grad_(t.is_floating_point()) for t in as_tensors(*batch(seed=i))) for i in range(3)]
    model, reference = dense_model(), dense_model()
    reference.set_weights(model.get_weights())
    model.fit_generator(iter(batches), steps_per_epoch=3, epochs=1, verbose=0)
    assert all(t.grad is None for b in batches for t in b)
    reference.fit_generator(iter([tuple(t.detach() for t in b) for b in batches]), steps_per_epoch=3, epochs=1,
                            verbose=0)
    assert_weights_equal(model.get_weights(), reference.get_weights())
