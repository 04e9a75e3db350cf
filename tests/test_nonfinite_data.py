"""NaN and inf in x, y and sample_weight are said once, naming the argument and the rows (arrays) or the first
batch (streams); a non-finite training loss is said once with what was found (issue 15). Keras 2.3.1 says
nothing in all these cases; the rows and batches expected here are where the tests put the bad values.
"""
import warnings

import numpy as np
import pytest

from kerasish.layers import Dense, Input, concatenate
from kerasish.models import Model, Sequential
from kerasish.optimizers import SGD
from kerasish.preprocessing.image import ImageDataGenerator
from kerasish.training import nonfinite

from helpers import ListSequence


def dense_model(lr=0.01):
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(SGD(lr=lr), "mse")
    return model


def data(rows=20, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(rows, 3).astype("float32"), rng.randn(rows, 2).astype("float32")


def messages(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def about_data(found):
    return [m for m in found if "NaN or inf in" in m and "the training loss became" not in m]


def about_loss(found):
    return [m for m in found if "the training loss became" in m]


# ------------------------------------------------------------------------------ arrays: once per call
def test_nan_rows_in_x_are_named_once_and_the_nan_loss_once_with_them():
    x, y = data()
    x[[4, 9], 1] = np.nan
    found = messages(lambda: dense_model().fit(x, y, epochs=3, batch_size=5, verbose=0))
    assert about_data(found) == ["fit: x has NaN or inf in 2 of 20 samples (rows 4, 9); the loss and then the "
                                 "weights become NaN when training on them. Remove or replace those values (e.g. "
                                 "np.nan_to_num) first."]
    assert len(about_loss(found)) == 1
    assert about_loss(found)[0].startswith("fit: the training loss became nan in epoch 1. The data holds "
                                           "non-finite values: x has NaN or inf in 2 of 20 samples (rows 4, 9).")


def test_inf_in_y_and_nan_in_sample_weight_name_their_arguments():
    x, y = data()
    y[7, 0] = np.inf
    weights = np.ones(20)
    weights[[0, 1, 2, 3, 5, 6]] = np.nan
    found = about_data(messages(lambda: dense_model().fit(x, y, sample_weight=weights, verbose=0)))
    assert [m.split(";")[0] for m in found] == ["fit: y has NaN or inf in 1 of 20 samples (rows 7)",
                                                "fit: sample_weight has NaN or inf in 6 of 20 samples (rows 0, 1, 2, "
                                                "3, 5, ...)"]


def test_the_input_of_a_two_input_model_is_named():
    a, b = Input((2,), name="a"), Input((1,), name="b")
    model = Model([a, b], Dense(2)(concatenate([a, b])))
    model.compile(SGD(lr=0.01), "mse")
    x, y = data()
    xb = x[:, 2:].copy()
    xb[3] = -np.inf
    found = about_data(messages(lambda: model.fit([x[:, :2], xb], y, verbose=0)))
    assert [m.split(";")[0] for m in found] == ["fit: x['b'] has NaN or inf in 1 of 20 samples (rows 3)"]


def test_validation_data_and_evaluate_are_checked_too():
    x, y = data()
    x_val, y_val = data(seed=1)
    x_val[2, 0] = np.nan
    model = dense_model()
    found = about_data(messages(lambda: model.fit(x, y, validation_data=(x_val, y_val), verbose=0)))
    assert [m.split(";")[0] for m in found] == ["fit (validation_data): x has NaN or inf in 1 of 20 samples (rows 2)"]
    found = about_data(messages(lambda: model.evaluate(x_val, y_val, verbose=0)))
    assert [m.split(";")[0] for m in found] == ["evaluate: x has NaN or inf in 1 of 20 samples (rows 2)"]


def test_clean_data_gives_no_warning_and_integer_data_is_not_read():
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dense_model().fit(x, y, epochs=2, verbose=0)
        model = Sequential([Dense(3, input_shape=(3,), activation="softmax")])
        model.compile(SGD(lr=0.01), "sparse_categorical_crossentropy")
        model.fit((x * 10).astype("int64"), np.arange(20) % 3, verbose=0)


def test_a_loss_that_overflows_on_finite_data_says_the_data_was_clean():
    x, y = data()
    found = messages(lambda: dense_model(lr=0.0).fit(x * 1e20, y, epochs=2, verbose=0))
    assert about_data(found) == []
    assert len(about_loss(found)) == 1
    assert about_loss(found)[0].startswith("fit: the training loss became inf in epoch 1. No NaN or inf was found "
                                           "in x, y or sample_weight, so it comes from the training itself")


# ------------------------------------------------------------------------------ streams: a device flag per batch
def endless(x, y, bad_batch):
    batch = 0
    while True:
        xb, yb = x[:4].copy(), y[:4].copy()
        if batch == bad_batch:
            xb[1, 1] = np.inf
        batch += 1
        yield xb, yb


def test_generator_batch_with_inf_is_named_once_over_several_epochs():
    x, y = data()
    found = messages(lambda: dense_model().fit_generator(endless(x, y, 3), steps_per_epoch=5, epochs=3, verbose=0))
    assert about_data(found) == ["fit_generator: x has NaN or inf in 1 of 5 batches so far, first in generator "
                                 "batch 3, counting from 0; the loss and then the weights become NaN when training "
                                 "on them. Remove or replace those values (e.g. np.nan_to_num) in the data source."]
    assert len(about_loss(found)) == 1
    assert "first in generator batch 3, counting from 0." in about_loss(found)[0]


def test_sequence_item_with_nan_targets_is_named_by_its_index():
    x, y = data()
    batches = [(x[i:i + 4], y[i:i + 4].copy()) for i in range(0, 20, 4)]
    batches[2][1][0, 0] = np.nan
    found = about_data(messages(lambda: dense_model().fit_generator(ListSequence(batches), epochs=1, verbose=0,
                                                                    shuffle=False)))
    assert [m.split(";")[0] for m in found] == ["fit_generator: y has NaN or inf in 1 of 5 batches so far, first in "
                                                "ListSequence[2]"]


def test_image_iterator_batch_with_nan_is_named_and_evaluate_and_predict_generator_warn():
    images = np.ones((8, 3), "float32")[:, None, None, :] * np.ones((1, 2, 2, 1), "float32")
    images[5, 0, 0, 0] = np.nan
    model = Sequential([Dense(2, input_shape=(2, 2, 3))])
    model.compile(SGD(lr=0.01), "mse")
    flow = ImageDataGenerator().flow(images, np.zeros((8, 2, 2, 2), "float32"), batch_size=4, shuffle=False)
    found = about_data(messages(lambda: model.evaluate_generator(flow)))
    assert [m.split(";")[0] for m in found] == ["evaluate_generator: x has NaN or inf in 1 of 2 batches so far, "
                                                "first in NumpyArrayIterator[1]"]
    found = about_data(messages(lambda: model.predict_generator(flow)))
    assert [m.split(";")[0] for m in found] == ["predict_generator: x has NaN or inf in 1 of 2 batches so far, "
                                                "first in NumpyArrayIterator[1]"]


def test_stream_values_are_read_once_per_epoch_not_per_step(monkeypatch):
    reads = []
    original = nonfinite.StreamMonitor.report

    def counting(self):
        reads.append(len(self._keys))
        return original(self)

    monkeypatch.setattr(nonfinite.StreamMonitor, "report", counting)
    x, y = data()
    dense_model().fit_generator(endless(x, y, -1), steps_per_epoch=6, epochs=2, verbose=0)
    assert reads == [6, 6]  # the batches recorded since the previous read, at each epoch's end


def test_monitor_names_the_first_bad_batch_across_buffer_chunks(monkeypatch):
    import torch
    monkeypatch.setattr(nonfinite.StreamMonitor, "CHUNK", 4)
    monitor = nonfinite.StreamMonitor("fit_generator", lambda key: f"batch {key}", ["in"], ["out"])
    for batch in range(11):
        x = torch.zeros(2, 3)
        y = torch.full((2, 1), float("nan") if batch in (6, 9) else 0.0)
        monitor.record(batch, x, y, None)
    with pytest.warns(UserWarning, match=r"^fit_generator: y has NaN or inf in 2 of 11 batches so far, first in "
                                         r"batch 6;"):
        assert monitor.report() == ["y has NaN or inf in 2 of 11 batches so far, first in batch 6"]


# ------------------------------------------------------------------------------ preprocessing_function
def test_preprocessing_function_returning_none_is_an_error_naming_it_before_training():
    def forgets_return(image):
        image *= 2.0

    model = Sequential([Dense(2, input_shape=(2, 2, 3))])
    model.compile(SGD(lr=0.1), "mse")
    before = model.get_weights()
    flow = ImageDataGenerator(preprocessing_function=forgets_return).flow(
        np.ones((8, 2, 2, 3), "float32"), np.zeros((8, 2, 2, 2), "float32"), batch_size=4)
    with pytest.raises(ValueError, match=r"^ImageDataGenerator: preprocessing_function returned None for an image "
                                         r"of shape \(2, 2, 3\); it must return the processed image"):
        model.fit_generator(flow, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="preprocessing_function returned None"):
        ImageDataGenerator(preprocessing_function=forgets_return).standardize(np.ones((2, 2, 3), "float32"))


def test_preprocessing_function_changing_the_shape_is_an_error_naming_both_shapes():
    flow = ImageDataGenerator(preprocessing_function=lambda image: image[:1]).flow(
        np.ones((4, 2, 2, 3), "float32"), batch_size=2)
    with pytest.raises(ValueError, match=r"^ImageDataGenerator: preprocessing_function returned an array of shape "
                                         r"\(1, 2, 3\) for an image of shape \(2, 2, 3\)"):
        flow[0]


# ------------------------------------------------------------------------------ torch data
def test_tensor_dataset_rows_are_checked_once_as_arrays_instead_of_every_batch(monkeypatch):
    """A TensorDataset (or a DataLoader over it with torch's default collate) is rows of in-memory tensors: the
    arrays' check, once per call, names the rows; no batch is scanned."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    scanned = []
    monkeypatch.setattr(nonfinite.StreamMonitor, "record", lambda self, *batch: scanned.append(len(batch[0])))
    x, y = data()
    x[[4, 9], 1] = np.nan
    dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    for source, kwargs in ((DataLoader(dataset, batch_size=5, shuffle=True), {}), (dataset, {"batch_size": 5})):
        found = messages(lambda: dense_model().fit(source, epochs=2, verbose=0, **kwargs))
        # (fit on a stream runs fit_generator, as in Keras 2.3.1, and speaks as it)
        assert about_data(found) == ["fit_generator: x has NaN or inf in 2 of 20 samples (rows 4, 9); the loss and "
                                     "then the weights become NaN when training on them. Remove or replace those "
                                     "values (e.g. np.nan_to_num) first."]
        assert about_loss(found)[0].startswith("fit_generator: the training loss became nan in epoch 1. The data "
                                               "holds non-finite values: x has NaN or inf in 2 of 20 samples")
    assert scanned == []
    y_only = TensorDataset(torch.from_numpy(data()[0]), torch.from_numpy(np.full((20, 2), np.nan, "float32")))
    assert about_data(messages(lambda: dense_model().predict(y_only))) == []  # predict reads x only


def test_a_dataloader_with_its_own_collate_is_scanned_batch_by_batch():
    import torch
    from torch.utils.data import DataLoader, TensorDataset, default_collate
    x, y = data()
    x[12, 0] = np.inf
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=5,
                        collate_fn=lambda rows: default_collate(rows))  # may change the rows: not the dataset's
    found = messages(lambda: dense_model().fit(loader, epochs=2, verbose=0))
    assert about_data(found) == ["fit_generator: x has NaN or inf in 1 of 4 batches so far, first in torch DataLoader "
                                 "batch 2, "
                                 "counting from 0; the loss and then the weights become NaN when training on them. "
                                 "Remove or replace those values (e.g. np.nan_to_num) in the data source."]
