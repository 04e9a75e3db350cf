"""Every numeric hyper-parameter is checked where it is written (issue 15): optimizers, learning rates written
later (K.set_value, schedules), callbacks, ImageDataGenerator and layers. Each error names the owner, the
argument, the allowed range and the value; what Keras 2.3.1 accepts and uses sensibly still constructs.
keras-preprocessing 1.1.2 is the reference for ImageDataGenerator's own errors and accepted values."""
import math
import pathlib
import re

import numpy as np
import pytest
from keras_preprocessing.image import ImageDataGenerator as ReferenceGenerator

from kerasish import backend as K
from kerasish import layers as L
from kerasish.callbacks import (EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau,
                                TensorBoard)
from kerasish.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop
from kerasish.preprocessing.image import ImageDataGenerator
from helpers import tiny_data, tiny_model


def raises(error, owner, argument, expected, received):
    """pytest.raises for check_number's message: '<owner>: argument `<argument>` must be <expected>; received
    <received>'."""
    return pytest.raises(error, match=re.escape(f"{owner}: argument `{argument}` must be {expected}; received "
                                                f"{received}"))


# ------------------------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("cls, kwargs, error, argument, expected, received", [
    (SGD, {"lr": -0.5}, ValueError, "lr", "a number >= 0", "-0.5."),
    (Adam, {"learning_rate": -1}, ValueError, "learning_rate", "a number >= 0", "-1."),
    (Adam, {"lr": "fast"}, TypeError, "lr", "a number >= 0", "'fast' (of type str)."),
    (RMSprop, {"lr": float("nan")}, ValueError, "lr", "a number >= 0", "nan."),
    (Adagrad, {"learning_rate": float("inf")}, ValueError, "learning_rate", "a number >= 0", "inf."),
    (SGD, {"momentum": -1}, ValueError, "momentum", "a number in [0, 1]", "-1."),
    (SGD, {"momentum": 1.5}, ValueError, "momentum", "a number in [0, 1]", "1.5."),
    (SGD, {"decay": -0.1}, ValueError, "decay", "a number >= 0", "-0.1."),
    (RMSprop, {"rho": 1.0}, ValueError, "rho", "a number in [0, 1)", "1.0."),
    (Adadelta, {"rho": -0.1}, ValueError, "rho", "a number in [0, 1)", "-0.1."),
    (Adagrad, {"epsilon": -1e-7}, ValueError, "epsilon", "a number >= 0", "-1e-07."),
    (Adam, {"beta_1": 1.0}, ValueError, "beta_1", "a number in [0, 1)", "1.0."),
    (Adamax, {"beta_2": 1.5}, ValueError, "beta_2", "a number in [0, 1]", "1.5."),
    (Nadam, {"schedule_decay": -1}, ValueError, "schedule_decay", "a number >= 0", "-1."),
    (Adam, {"clipnorm": -1}, ValueError, "clipnorm", "a number >= 0 or None", "-1."),
    (SGD, {"clipvalue": "x"}, TypeError, "clipvalue", "a number >= 0 or None", "'x' (of type str)."),
    (SGD, {"momentum": True}, TypeError, "momentum", "a number in [0, 1]", "True (of type bool)."),
])
def test_optimizer_arguments_out_of_range_or_of_the_wrong_type(cls, kwargs, error, argument, expected, received):
    with raises(error, cls.__name__, argument, expected, received):
        cls(**kwargs)


def test_optimizer_values_keras_accepts_still_construct():
    sgd = SGD(lr=0, momentum=0, decay=0, nesterov=True, clipnorm=0, clipvalue=0)
    assert sgd.get_config() == {"learning_rate": 0.0, "momentum": 0.0, "decay": 0.0, "nesterov": True,
                                "clipnorm": 0.0, "clipvalue": 0.0}
    assert SGD(momentum=1.0).get_config()["momentum"] == 1.0
    adam = Adam(learning_rate=np.float32(0.5), beta_1=0.0, beta_2=1.0, epsilon=0, amsgrad=True)
    assert (adam.get_config()["learning_rate"], adam.get_config()["beta_2"]) == (0.5, 1.0)
    assert RMSprop(rho=0).get_config()["rho"] == 0.0
    assert Nadam(schedule_decay=0).get_config()["schedule_decay"] == 0.0
    assert Adamax(lr=np.array(0.25)).get_config()["learning_rate"] == 0.25


def test_a_learning_rate_written_later_is_checked_and_the_optimizer_left_unchanged():
    model = tiny_model(lr=0.1)
    x, y = tiny_data()
    model.fit(x, y, epochs=1, verbose=0)
    optimizer = model.optimizer
    with pytest.raises(ValueError, match=re.escape("SGD: the value written to `lr` must be a number >= 0; "
                                                   "received -0.5.")):
        K.set_value(optimizer.lr, -0.5)
    with pytest.raises(TypeError, match=re.escape("SGD: the value written to `lr` must be a number >= 0; received "
                                                  "'fast' (of type str).")):
        optimizer.lr = "fast"
    with pytest.raises(ValueError, match=re.escape("the value written to `momentum` must be a number in [0, 1]")):
        K.set_value(optimizer.momentum, 2.0)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1]
    assert optimizer.defaults["lr"] == 0.1 and optimizer.param_groups[0]["momentum"] == 0.0
    K.set_value(optimizer.lr, np.float32(0.0))  # 0 stays accepted, as in Keras
    assert float(K.get_value(optimizer.lr)) == 0.0


# ------------------------------------------------------------------------------------------- callbacks
def test_learning_rate_scheduler_refuses_a_negative_or_nan_rate_naming_the_epoch():
    rates = {0: 0.05, 1: -0.1}
    model = tiny_model(lr=0.1)
    x, y = tiny_data()
    with pytest.raises(ValueError, match=re.escape("LearningRateScheduler: the schedule by_epoch returned -0.1 for "
                                                   "epoch 2 (epoch index 1); a learning rate must be a finite "
                                                   "number >= 0.")):
        def by_epoch(epoch):
            return rates[epoch]
        model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[LearningRateScheduler(by_epoch)])
    assert model.optimizer.param_groups[0]["lr"] == 0.05  # epoch 1's rate: the bad one never reached it
    assert model.optimizer.iterations == 2  # one epoch of 2 batches trained

    model = tiny_model(lr=0.1)
    with pytest.raises(ValueError, match=r"returned nan for epoch 1 \(epoch index 0\)"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: float("nan"))])
    assert model.optimizer.iterations == 0

    model = tiny_model(lr=0.1)  # 0.0 is a rate Keras accepts
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: 0.0)])
    assert [float(v) for v in history.history["lr"]] == [0.0]


def test_learning_rate_scheduler_needs_a_function():
    with pytest.raises(TypeError, match=r"LearningRateScheduler: argument `schedule` must be a function of "
                                        r"\(epoch, lr\) or of \(epoch\) returning the learning rate; received 0.1"):
        LearningRateScheduler(0.1)


def test_reduce_lr_on_plateau_arguments():
    # Keras 2.3.1's own error and wording for factor >= 1
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau does not support a factor >= 1.0.$"):
        ReduceLROnPlateau(factor=1.0)
    with raises(ValueError, "ReduceLROnPlateau", "factor", "a number in (0, 1)", "0."):
        ReduceLROnPlateau(factor=0)
    with raises(TypeError, "ReduceLROnPlateau", "factor", "a number", "'0.5' (of type str)."):
        ReduceLROnPlateau(factor="0.5")
    with raises(ValueError, "ReduceLROnPlateau", "patience", "a number >= 0", "-1."):
        ReduceLROnPlateau(patience=-1)
    with raises(ValueError, "ReduceLROnPlateau", "cooldown", "a number >= 0", "-2."):
        ReduceLROnPlateau(cooldown=-2)
    with raises(ValueError, "ReduceLROnPlateau", "min_lr", "a number >= 0", "-0.001."):
        ReduceLROnPlateau(min_lr=-0.001)
    with raises(ValueError, "ReduceLROnPlateau", "min_delta", "a number >= 0", "-0.1."):
        ReduceLROnPlateau(min_delta=-0.1)
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        with raises(ValueError, "ReduceLROnPlateau", "min_delta", "a number >= 0", "-1."):
            ReduceLROnPlateau(epsilon=-1)
    accepted = ReduceLROnPlateau(factor=0.5, patience=0, cooldown=0, min_lr=0, min_delta=0)
    assert (accepted.factor, accepted.patience, accepted.min_lr) == (0.5, 0, 0)


def test_early_stopping_arguments():
    with raises(ValueError, "EarlyStopping", "patience", "a number >= 0", "-1."):
        EarlyStopping(patience=-1)
    with raises(ValueError, "EarlyStopping", "min_delta", "a number >= 0", "-0.1."):
        EarlyStopping(min_delta=-0.1)
    with raises(TypeError, "EarlyStopping", "baseline", "a number or None", "'high' (of type str)."):
        EarlyStopping(baseline="high")
    assert EarlyStopping(patience=np.inf).patience == math.inf  # "never stop" stays possible
    assert EarlyStopping(patience=0, min_delta=0, baseline=0.5).baseline == 0.5


def test_model_checkpoint_arguments():
    with raises(ValueError, "ModelCheckpoint", "period", "an integer >= 1", "0."):
        ModelCheckpoint("m.h5", period=0)
    with raises(ValueError, "ModelCheckpoint", "period", "an integer >= 1", "2.5."):
        ModelCheckpoint("m.h5", period=2.5)
    with pytest.raises(TypeError, match=r"ModelCheckpoint: argument `filepath` must be a str or a path; received 3"):
        ModelCheckpoint(3)
    assert ModelCheckpoint(pathlib.Path("dir") / "m.h5", period=3).filepath == str(pathlib.Path("dir") / "m.h5")


def test_tensorboard_histogram_freq():
    with raises(ValueError, "TensorBoard", "histogram_freq", "an integer >= 0", "-1."):
        TensorBoard(histogram_freq=-1)


# ------------------------------------------------------------------------------------------- ImageDataGenerator
@pytest.mark.parametrize("kwargs", [{"validation_split": 1.5}, {"zoom_range": "x"}, {"zoom_range": [0.5]},
                                    {"brightness_range": 0.5}, {"data_format": "nhwc"}])
def test_image_data_generator_keeps_keras_preprocessing_errors(kwargs):
    with pytest.raises(ValueError) as reference:
        ReferenceGenerator(**kwargs)
    with pytest.raises(ValueError) as ours:
        ImageDataGenerator(**kwargs)
    first_sentence = str(reference.value).split("Received")[0].split(".")[0]
    assert str(ours.value).startswith(first_sentence)


@pytest.mark.parametrize("kwargs, error, argument, expected, received", [
    ({"rescale": "1/255"}, TypeError, "rescale", "a number or None", "'1/255' (of type str)."),
    ({"rotation_range": "x"}, TypeError, "rotation_range", "a number", "'x' (of type str)."),
    ({"shear_range": float("nan")}, ValueError, "shear_range", "a number", "nan."),
    ({"channel_shift_range": None}, TypeError, "channel_shift_range", "a number", "None (of type NoneType)."),
    ({"zca_epsilon": -1e-6}, ValueError, "zca_epsilon", "a number >= 0", "-1e-06."),
    ({"cval": "black"}, TypeError, "cval", "a number", "'black' (of type str)."),
    ({"brightness_range": ("a", "b")}, TypeError, "brightness_range[0]", "a number >= 0", "'a' (of type str)."),
    ({"brightness_range": (0.5, -1)}, ValueError, "brightness_range[1]", "a number >= 0", "-1."),
    ({"validation_split": "0.2"}, TypeError, "validation_split", "a number or None", "'0.2' (of type str)."),
])
def test_image_data_generator_numbers(kwargs, error, argument, expected, received):
    with raises(error, "ImageDataGenerator", argument, expected, received):
        ImageDataGenerator(**kwargs)


def test_zoom_range_must_give_positive_zoom_factors():
    # keras-preprocessing accepts 1.5 and then draws zoom factors from [-0.5, 2.5]: mirrored, degenerate images
    assert ReferenceGenerator(zoom_range=1.5).zoom_range == [-0.5, 2.5]
    for zoom_range, factors in ((1.5, "[-0.5, 2.5]"), (1.0, "[0, 2]"), ([0.0, 1.0], "[0, 1]")):
        with pytest.raises(ValueError, match=re.escape("ImageDataGenerator: argument `zoom_range` must give zoom "
                                                       "factors > 0") + r".*" + re.escape(f"i.e. factors {factors}.")):
            ImageDataGenerator(zoom_range=zoom_range)


def test_shift_ranges_are_checked_at_construction():
    with pytest.raises(ValueError, match=r"ImageDataGenerator: argument `width_shift_range`: expected a float, an "
                                         r"int or a 1-D list of values; received 'x'"):
        ImageDataGenerator(width_shift_range="x")
    with pytest.raises(ValueError, match=r"argument `height_shift_range` must hold finite numbers"):
        ImageDataGenerator(height_shift_range=[0.1, float("inf")])


@pytest.mark.parametrize("kwargs", [
    {"rescale": 1 / 255.0}, {"rescale": None}, {"rescale": 0}, {"zoom_range": 0.2}, {"zoom_range": [0.5, 1.5]},
    {"zoom_range": -0.3}, {"brightness_range": (0.5, 1.5)}, {"rotation_range": -10}, {"shear_range": 5},
    {"width_shift_range": [-2, 0, 2]}, {"height_shift_range": 3}, {"width_shift_range": 0.1},
    {"channel_shift_range": 20.0}, {"validation_split": 0.2}, {"validation_split": 0}, {"cval": 127},
])
def test_image_data_generator_values_keras_accepts_still_construct_alike(kwargs):
    ours, reference = ImageDataGenerator(**kwargs), ReferenceGenerator(**kwargs)
    for name in kwargs:
        attribute = "_validation_split" if name == "validation_split" else name
        assert np.all(np.asarray(getattr(ours, attribute)) == np.asarray(getattr(reference, attribute))), name


# ------------------------------------------------------------------------------------------- layers
@pytest.mark.parametrize("make, error, owner, argument, expected, received", [
    (lambda: L.Dense(0), ValueError, "Dense", "units", "an integer >= 1", "0."),
    (lambda: L.Dense("3"), TypeError, "Dense", "units", "an integer >= 1", "'3' (of type str)."),
    (lambda: L.Dense(2.5), ValueError, "Dense", "units", "an integer >= 1", "2.5."),
    (lambda: L.Dropout(1.0), ValueError, "Dropout", "rate", "a number in [0, 1)", "1.0."),
    (lambda: L.Dropout(-0.1), ValueError, "Dropout", "rate", "a number in [0, 1)", "-0.1."),
    (lambda: L.Dropout("half"), TypeError, "Dropout", "rate", "a number in [0, 1)", "'half' (of type str)."),
    (lambda: L.SpatialDropout2D(1.2), ValueError, "SpatialDropout2D", "rate", "a number in [0, 1)", "1.2."),
    (lambda: L.GaussianNoise(-1), ValueError, "GaussianNoise", "stddev", "a number >= 0", "-1."),
    (lambda: L.GaussianDropout(1.5), ValueError, "GaussianDropout", "rate", "a number in [0, 1]", "1.5."),
    (lambda: L.AlphaDropout(-0.5), ValueError, "AlphaDropout", "rate", "a number in [0, 1]", "-0.5."),
    (lambda: L.LSTM(3, dropout=1.5), ValueError, "LSTMCell", "dropout", "a number in [0, 1]", "1.5."),
    (lambda: L.GRU(2, recurrent_dropout=-0.1), ValueError, "GRUCell", "recurrent_dropout", "a number in [0, 1]",
     "-0.1."),
    (lambda: L.SimpleRNN(0), ValueError, "SimpleRNNCell", "units", "an integer >= 1", "0."),
    (lambda: L.Embedding(0, 3), ValueError, "Embedding", "input_dim", "an integer >= 1", "0."),
    (lambda: L.BatchNormalization(momentum=1.5), ValueError, "BatchNormalization", "momentum",
     "a number in [0, 1]", "1.5."),
    (lambda: L.BatchNormalization(epsilon=-1e-3), ValueError, "BatchNormalization", "epsilon", "a number >= 0",
     "-0.001."),
    (lambda: L.LeakyReLU(alpha="x"), TypeError, "LeakyReLU", "alpha", "a number", "'x' (of type str)."),
    (lambda: L.ELU(alpha=None), TypeError, "ELU", "alpha", "a number", "None (of type NoneType)."),
    (lambda: L.Conv2D(0, 3), ValueError, "Conv2D", "filters", "an integer >= 1", "0."),
    (lambda: L.RepeatVector(0), ValueError, "RepeatVector", "n", "an integer >= 1", "0."),
])
def test_layer_arguments(make, error, owner, argument, expected, received):
    with raises(error, owner, argument, expected, received):
        make()


def test_layer_values_keras_accepts_still_construct():
    assert L.Dense(np.int64(3)).units == 3
    assert L.Dropout(0).rate == 0.0
    assert L.LSTM(3, dropout=1.0, recurrent_dropout=0).get_config()["dropout"] == 1.0
    assert L.BatchNormalization(momentum=0.0, epsilon=0).momentum == 0.0
    assert L.LeakyReLU(alpha=0).alpha == 0.0
    assert L.Embedding(5, 0).output_dim == 0
