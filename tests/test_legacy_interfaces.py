"""Keras 1 argument names in Keras 2 layers and methods (Keras 2.3.1 ``keras/legacy/interfaces.py``).

Each layer family: the Keras 1 call builds the layer the Keras 2 call builds (same config), with Keras's warning,
whose expected text is written out here by hand from interfaces.py's rules (Keras 1 names popped and the Keras 2
name appended in the conversion list's order, strings in double quotes, other values cut to 10 characters).
Then the errors, where the warnings point, subclasses, the decorators on classes of the user's own
(``keras.legacy.interfaces``), and the generator methods of Model.
"""
import re
import warnings

import numpy as np
import pytest

from kerasish import layers as L
from kerasish.callbacks import Callback
from kerasish.layers import legacy_arguments
from kerasish.legacy import interfaces
from kerasish.models import Model, Sequential
from kerasish.utils import Sequence


def build(factory, *args, **kwargs):
    """``(layer, [warning texts])``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = factory(*args, **kwargs)
    return layer, [str(w.message) for w in caught]


def config_without_name(layer) -> dict:
    config = dict(layer.get_config())
    config.pop("name")
    return config


def update(call: str) -> str:
    return f"Update your `{call.partition('(')[0]}` call to the Keras 2 API: `{call}`"


ZERO_PADDING_KWARG_WARNING = ("The `padding` argument in the Keras 2 API no longeraccepts dict types. You can now "
                              "input argument as: `padding=(top_pad, bottom_pad, left_pad, right_pad)`.")
ZERO_PADDING_ARG_WARNING = ("The `padding` argument in the Keras 2 API no longeraccepts dict types. You can now "
                            "input argument as: `padding=((top_pad, bottom_pad), (left_pad, right_pad))`")
RNN_INPUT_DIM_WARNING = ("The `input_dim` and `input_length` arguments in recurrent layers are deprecated. Use "
                         "`input_shape` instead.")
EMBEDDING_DROPOUT_WARNING = ("The `dropout` argument is no longer support in `Embedding`. You can apply a "
                             "`keras.layers.SpatialDropout1D` layer right after the `Embedding` layer to get the "
                             "same behavior.")
FORGET_BIAS_WARNING = ("The `forget_bias_init` argument has been ignored. Use `unit_forget_bias=True` instead to "
                       "initialize with ones.")

# (layer, Keras 1 call (args, kwargs), the same layer in Keras 2 (args, kwargs), the warnings Keras 2.3.1 gives)
FAMILIES = [
    (L.Dense, ((), dict(output_dim=10, init="uniform", bias=False, input_dim=3)),
     ((10,), dict(kernel_initializer="uniform", use_bias=False, input_dim=3)),
     [update('Dense(input_dim=3, units=10, kernel_initializer="uniform", use_bias=False)')]),
    (L.Dropout, ((), dict(p=0.3)), ((0.3,), {}), [update("Dropout(rate=0.3)")]),
    (L.SpatialDropout1D, ((), dict(p=0.2)), ((0.2,), {}), [update("SpatialDropout1D(rate=0.2)")]),
    (L.SpatialDropout2D, ((), dict(p=0.2, dim_ordering="th")), ((0.2,), dict(data_format="channels_first")),
     [update('SpatialDropout2D(rate=0.2, data_format="channels_first")')]),
    (L.SpatialDropout3D, ((0.1,), dict(dim_ordering="tf")), ((0.1,), dict(data_format="channels_last")),
     [update('SpatialDropout3D(0.1, data_format="channels_last")')]),
    (L.Embedding, ((10, 4), dict(init="normal", dropout=0.2)), ((10, 4), dict(embeddings_initializer="normal")),
     [EMBEDDING_DROPOUT_WARNING, update('Embedding(10, 4, embeddings_initializer="normal")')]),
    (L.PReLU, ((), dict(init="ones")), (("ones",), {}), [update('PReLU(alpha_initializer="ones")')]),
    (L.GaussianNoise, ((), dict(sigma=0.1)), ((0.1,), {}), [update("GaussianNoise(stddev=0.1)")]),
    (L.GaussianDropout, ((), dict(p=0.2)), ((0.2,), {}), [update("GaussianDropout(rate=0.2)")]),
    (L.BatchNormalization, ((), dict(mode=0, beta_init="zeros", gamma_init="ones", momentum=0.9)),
     ((), dict(momentum=0.9, beta_initializer="zeros", gamma_initializer="ones")),
     [update('BatchNormalization(momentum=0.9, beta_initializer="zeros", gamma_initializer="ones")')]),
    (L.MaxPooling1D, ((), dict(pool_length=3, stride=1, border_mode="same")), ((3, 1, "same"), {}),
     [update('MaxPooling1D(pool_size=3, strides=1, padding="same")')]),
    (L.AveragePooling1D, ((2,), dict(border_mode="same")), ((2,), dict(padding="same")),
     [update('AveragePooling1D(2, padding="same")')]),
    (L.AveragePooling2D, (((2, 2),), dict(border_mode="same", dim_ordering="th")),
     (((2, 2),), dict(padding="same", data_format="channels_first")),
     [update('AveragePooling2D((2, 2), padding="same", data_format="channels_first")')]),
    (L.MaxPooling3D, ((), dict(pool_size=(1, 2, 2), dim_ordering="tf")),
     ((), dict(pool_size=(1, 2, 2), data_format="channels_last")),
     [update('MaxPooling3D(pool_size=(1, 2, 2), data_format="channels_last")')]),
    (L.GlobalAveragePooling2D, ((), dict(dim_ordering="th")), ((), dict(data_format="channels_first")),
     [update('GlobalAveragePooling2D(data_format="channels_first")')]),
    (L.GlobalMaxPooling3D, ((), dict(dim_ordering="default")), ((), {}),
     [update("GlobalMaxPooling3D(data_format=None)")]),
    (L.UpSampling1D, ((), dict(length=3)), ((3,), {}), [update("UpSampling1D(size=3)")]),
    (L.UpSampling2D, (((2, 3),), dict(dim_ordering="th")), (((2, 3),), dict(data_format="channels_first")),
     [update('UpSampling2D((2, 3), data_format="channels_first")')]),
    (L.UpSampling3D, ((), dict(dim_ordering="tf")), ((), dict(data_format="channels_last")),
     [update('UpSampling3D(data_format="channels_last")')]),
    (L.ZeroPadding2D, ((), dict(padding={"top_pad": 1, "right_pad": 2})), ((((1, 0), (0, 2)),), {}),
     [ZERO_PADDING_KWARG_WARNING]),
    (L.ZeroPadding2D, (({"left_pad": 1},), {}), ((((0, 0), (1, 0)),), {}), [ZERO_PADDING_ARG_WARNING]),
    (L.ZeroPadding2D, ((2,), dict(dim_ordering="th")), ((2,), dict(data_format="channels_first")),
     [update('ZeroPadding2D(2, data_format="channels_first")')]),
    (L.ZeroPadding3D, ((), dict(dim_ordering="th")), ((), dict(data_format="channels_first")),
     [update('ZeroPadding3D(data_format="channels_first")')]),
    (L.Cropping2D, ((((1, 1), (2, 2)),), dict(dim_ordering="tf")),
     ((((1, 1), (2, 2)),), dict(data_format="channels_last")),
     [update('Cropping2D(((1, 1), (..., data_format="channels_last")')]),
    (L.Cropping3D, ((), dict(dim_ordering="th")), ((), dict(data_format="channels_first")),
     [update('Cropping3D(data_format="channels_first")')]),
    (L.Conv1D, ((), dict(nb_filter=4, filter_length=3, subsample_length=2, border_mode="same", input_dim=5,
                         input_length=7)),
     ((4, 3), dict(strides=2, padding="same", input_shape=(7, 5))),
     [update('Conv1D(input_shape=(7, 5), filters=4, kernel_size=3, strides=2, padding="same")')]),
    (L.Conv2D, ((8, 3, 2), dict(subsample=(2, 2), init="he_normal")),
     ((8, (3, 2)), dict(strides=(2, 2), kernel_initializer="he_normal")),
     [update('Conv2D(8, (3, 2), strides=(2, 2), kernel_initializer="he_normal")')]),
    (L.Conv2D, ((), dict(nb_filter=8, nb_row=3, nb_col=2)), ((8, (3, 2)), {}),
     [update("Conv2D(kernel_size=(3, 2), filters=8)")]),
    (L.Conv2D, ((8, 3), dict(nb_col=2, W_regularizer=None, b_constraint=None)), ((8, (3, 2)), {}),
     [update("Conv2D(8, (3, 2), kernel_regularizer=None, bias_constraint=None)")]),
    (L.Convolution3D, ((8, 3, 3, 3), dict(border_mode="same")), ((8, (3, 3, 3)), dict(padding="same")),
     [update('Conv3D(8, (3, 3, 3), padding="same")')]),
    (L.Conv3D, ((8,), dict(kernel_dim1=1, kernel_dim2=2, kernel_dim3=3)), ((8, (1, 2, 3)), {}),
     [update("Conv3D(8, (1, 2, 3))")]),
    (L.Conv3D, ((8, 1), dict(kernel_dim2=2, kernel_dim3=3)), ((8, (1, 2, 3)), {}), [update("Conv3D(8, (1, 2, 3))")]),
    (L.Deconvolution2D, ((8, 3, 3, (None, 10, 10, 8)), dict(border_mode="same")),
     ((8, (3, 3)), dict(padding="same")), [update('Conv2DTranspose(8, (3, 3), padding="same")')]),
    (L.Conv2DTranspose, ((8, (3, 3)), dict(output_shape=(None, 5, 5, 8))), ((8, (3, 3)), {}),
     [update("Conv2DTranspose(8, (3, 3))")]),
    (L.SeparableConv2D, ((8, 3, 3), dict(init="he_normal", depth_multiplier=2)),
     ((8, (3, 3)), dict(depthwise_initializer="he_normal", pointwise_initializer="he_normal", depth_multiplier=2)),
     [update('SeparableConv2D(8, (3, 3), depth_multiplier=2, depthwise_initializer="he_normal", '
             'pointwise_initializer="he_normal")')]),
    (L.LSTM, ((), dict(output_dim=4, inner_init="orthogonal", inner_activation="hard_sigmoid", dropout_W=0.1,
                       dropout_U=0.2, consume_less="mem", return_sequences=True)),
     ((4,), dict(recurrent_initializer="orthogonal", recurrent_activation="hard_sigmoid", dropout=0.1,
                 recurrent_dropout=0.2, implementation=1, return_sequences=True)),
     [update('LSTM(return_sequences=True, units=4, recurrent_initializer="orthogonal", recurrent_activation='
             '"hard_sigmoid", dropout=0.1, recurrent_dropout=0.2, implementation=1)')]),
    (L.LSTM, ((4,), dict(forget_bias_init="one", consume_less="gpu")), ((4,), dict(unit_forget_bias=True)),
     [update("LSTM(4, unit_forget_bias=True, implementation=2)")]),
    (L.LSTM, ((4,), dict(forget_bias_init="zero")), ((4,), {}), [FORGET_BIAS_WARNING]),
    (L.GRU, ((), dict(output_dim=3, W_regularizer=None, U_regularizer=None, b_regularizer=None)), ((3,), {}),
     [update("GRU(units=3, kernel_regularizer=None, bias_regularizer=None, recurrent_regularizer=None)")]),
    (L.SimpleRNN, ((), dict(output_dim=3, input_dim=2, input_length=4)), ((3,), dict(input_shape=(4, 2))),
     [RNN_INPUT_DIM_WARNING, update("SimpleRNN(input_shape=(4, 2), units=3)")]),
    (L.ConvLSTM2D, ((4, 3, 3), dict(forget_bias_init="one", border_mode="same", inner_activation="sigmoid")),
     ((4, (3, 3)), dict(unit_forget_bias=True, padding="same", recurrent_activation="sigmoid")),
     [update('ConvLSTM2D(4, (3, 3), unit_forget_bias=True, padding="same", recurrent_activation="sigmoid")')]),
    (L.LocallyConnected1D, ((), dict(nb_filter=2, filter_length=3, input_dim=4, input_length=6)),
     ((2, 3), dict(input_shape=(6, 4))), [update("LocallyConnected1D(input_shape=(6, 4), filters=2, kernel_size=3)")]),
    (L.LocallyConnected2D, ((2, 3, 3), dict(subsample=(1, 1))), ((2, (3, 3)), dict(strides=(1, 1))),
     [update("LocallyConnected2D(2, (3, 3), strides=(1, 1))")]),
    (L.InputLayer, ((), dict(input_shape=(3,), input_dtype="float64")), ((), dict(input_shape=(3,), dtype="float64")),
     [update('InputLayer(input_shape=(3,), dtype="float64")')]),
]


@pytest.mark.parametrize("layer_class, keras1, keras2, expected_warnings", FAMILIES,
                         ids=[f"{family[0].__name__}-{i}" for i, family in enumerate(FAMILIES)])
def test_keras1_call_builds_the_keras2_layer_with_keras_warning(layer_class, keras1, keras2, expected_warnings):
    legacy, texts = build(layer_class, *keras1[0], **keras1[1])
    modern, modern_texts = build(layer_class, *keras2[0], **keras2[1])
    assert texts == expected_warnings
    assert not [text for text in modern_texts if "Keras 2 API" in text]
    assert type(legacy) is type(modern)
    assert config_without_name(legacy) == config_without_name(modern)


def test_gru_consume_less_cpu_is_implementation_0_which_the_layer_turns_into_1():
    layer, texts = build(L.GRU, 4, consume_less="cpu")
    assert texts[0] == update("GRU(4, implementation=0)")
    assert layer.implementation == 1  # Keras 2.3.1 GRU: implementation=0 is deprecated and becomes 1


def test_keras1_layers_compute_what_the_keras2_layers_compute():
    legacy, _ = build(L.Conv2D, 3, 2, 2, border_mode="same", input_shape=(5, 5, 2))
    modern = L.Conv2D(3, (2, 2), padding="same", input_shape=(5, 5, 2))
    legacy_model, modern_model = Sequential([legacy]), Sequential([modern])
    modern.set_weights(legacy.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 2)).astype("float32")
    assert legacy_model.predict(x).shape == (2, 5, 5, 3)
    np.testing.assert_array_equal(legacy_model.predict(x), modern_model.predict(x))


def test_model_accepts_input_and_output_with_keras_warning():
    x = L.Input((3,))
    y = L.Dense(2)(x)
    model, texts = build(Model, input=x, output=y)
    assert texts == [update(f"Model(inputs={str(x)[:10]}..., outputs={str(y)[:10]}...)")]
    assert model.inputs == [x] and model.outputs == [y]


def test_warning_values_are_cut_to_ten_characters_and_arrays_named():
    assert legacy_arguments.keras2_signature("Dense", (np.zeros(3),), {"name": "a_long_layer_name", "units": 12345678901}) \
        == '`Dense(array, name="a_long_layer_name", units=1234567890...)`'


# ---------------------------------------------------------------------------------------------------- errors
def test_positional_arguments_beyond_keras_limit_raise_keras_error_before_anything_is_made():
    with pytest.raises(TypeError, match=re.escape(
            "`Dense` can accept only 1 positional arguments ('units',), but you passed the following positional "
            "arguments: [10, 'relu']")):
        L.Dense(10, "relu")
    assert L.Dense(1).name == "dense_1"  # the failed call used no layer name
    with pytest.raises(TypeError, match=re.escape(
            "`MaxPooling2D` can accept only 3 positional arguments ('pool_size', 'strides', 'padding'), but you "
            "passed the following positional arguments: [(2, 2), (1, 1), 'same', 'channels_last']")):
        L.MaxPooling2D((2, 2), (1, 1), "same", "channels_last")
    with pytest.raises(TypeError, match=re.escape("`Lambda` can accept only 2 positional arguments ('function', "
                                                  "'output_shape')")):
        L.Lambda(abs, (3,), None)
    assert L.GlobalAveragePooling2D("channels_first").data_format == "channels_first"  # Keras sets no limit


def test_keras1_and_keras2_names_of_one_argument_together_are_refused():
    with pytest.raises(TypeError, match=re.escape(
            "For the `units` argument, the layer received both the legacy keyword argument `output_dim` and the "
            "Keras 2 keyword argument `units`. Stick to the latter!")):
        L.Dense(units=3, output_dim=3)
    with pytest.raises(TypeError, match="legacy keyword argument `p` and the Keras 2 keyword argument `rate`"):
        L.Dropout(rate=0.1, p=0.1)


def test_batch_normalization_refuses_positional_arguments_and_keras1_modes_1_and_2():
    with pytest.raises(TypeError, match=re.escape("The `BatchNormalization` layer does not accept positional "
                                                  "arguments. Use keyword arguments instead.")):
        L.BatchNormalization(1)
    with pytest.raises(TypeError, match=re.escape("The `mode` argument of `BatchNormalization` no longer exists. "
                                                  "`mode=1` and `mode=2` are no longer supported.")):
        L.BatchNormalization(mode=2)


def test_integer_positional_kernel_sizes_are_refused_where_they_could_be_strides():
    message = "passing both `kernel_size` and `strides` as integer positional arguments"
    with pytest.raises(ValueError, match=message):
        L.Conv2D(8, 3, 3, padding="same")
    with pytest.raises(ValueError, match=message):
        L.Conv3D(8, 3, 3, strides=1)
    with pytest.raises(TypeError, match=re.escape("Layer can receive at most 3 positional arguments.")):
        L.Conv2D(8, 3, 3, 1)
    with pytest.raises(TypeError, match=re.escape("Layer can receive at most 4 positional arguments.")):
        L.Conv3D(8, 3, 3, 3, 1)
    with pytest.raises(TypeError, match=re.escape(
            "`Conv2D` can accept only 2 positional arguments ('filters', 'kernel_size'), but you passed the "
            "following positional arguments: [8, (3, 3), (1, 1)]")):
        L.Conv2D(8, (3, 3), (1, 1))


# ---------------------------------------------------------------------------------------------------- where
def test_warnings_point_at_the_line_that_made_the_layer():
    with pytest.warns(UserWarning) as caught:
        L.Dense(output_dim=2)
        L.Embedding(5, 2, dropout=0.1)
        L.SimpleRNN(2, input_dim=3)
        L.LSTM(2, forget_bias_init="zero")
        L.ZeroPadding2D({"top_pad": 1})
    assert {w.filename for w in caught} == {__file__}


class DenseOfMine(L.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)


class PlainDense(L.Dense):
    pass


def test_subclasses_convert_through_the_keras_constructor_and_are_named_in_the_warning():
    layer, texts = build(DenseOfMine, 4, init="zeros")
    assert texts == [update('DenseOfMine(4, kernel_initializer="zeros")')]
    assert layer.get_config()["kernel_initializer"]["class_name"] == "Zeros"
    layer, texts = build(PlainDense, output_dim=2)
    assert texts == [update("PlainDense(units=2)")] and layer.units == 2


def test_every_decoration_in_the_table_is_installed():
    for path in legacy_arguments.DECORATED:
        module_name, class_name, method = path.rsplit(".", 2)
        module = __import__(module_name, fromlist=[class_name])
        function = vars(getattr(module, class_name))[method]
        assert function._original_function is not None, path


# ---------------------------------------------------------------------------------------------------- your own
class Scaled(L.Layer):
    @interfaces.generate_legacy_interface(allowed_positional_args=["factor"], conversions=[("scale", "factor")],
                                          value_conversions={"scale": {"double": 2.0}})
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


def test_generate_legacy_interface_decorates_your_constructor():
    layer, texts = build(Scaled, scale="double")
    assert texts == [update("Scaled(factor=2.0)")] and layer.factor == 2.0
    with pytest.raises(TypeError, match=re.escape("`Scaled` can accept only 1 positional arguments ('factor',)")):
        Scaled(1.0, "extra")


class KerasOneStyle(L.Layer):
    @interfaces.legacy_dense_support
    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_initializer = units, kernel_initializer


def test_a_keras_interface_decorates_your_layer_as_keras_own():
    layer, texts = build(KerasOneStyle, output_dim=3, init="zeros")
    assert texts == [update('KerasOneStyle(units=3, kernel_initializer="zeros")')]
    assert (layer.units, layer.kernel_initializer) == (3, "zeros")
    assert KerasOneStyle.__init__._original_function.__name__ == "__init__"


class Trainer:
    @interfaces.generate_legacy_method_interface(allowed_positional_args=["epochs"],
                                                 conversions=[("nb_epoch", "epochs")])
    def run(self, epochs=1):
        return epochs

    @interfaces.legacy_get_updates_support
    def get_updates(self, loss, params):
        return loss, params

    @interfaces.legacy_add_weight_support
    def add_weight(self, name=None, shape=None, initializer=None):
        return name, shape, initializer


def test_method_interfaces_name_the_method():
    result, texts = build(Trainer().run, nb_epoch=3)
    assert result == 3 and texts == [update("run(epochs=3)")]


def test_legacy_get_updates_support_reorders_keras1_calls():
    trainer = Trainer()
    assert trainer.get_updates(["w"], {}, "loss") == ("loss", ["w"])  # Keras 1: (params, constraints, loss)
    assert trainer.get_updates(["w"], {}, loss="loss") == ("loss", ["w"])
    assert trainer.get_updates("loss", ["w"]) == ("loss", ["w"])
    with pytest.raises(TypeError, match=re.escape("`get_update` call received more arguments than expected.")):
        trainer.get_updates(1, 2, 3, 4)
    with pytest.raises(TypeError, match="constraints a dict"):
        trainer.get_updates(["w"], "not a dict", loss="loss")


def test_legacy_add_weight_support_takes_keras1_positional_shape_then_name():
    assert Trainer().add_weight((3, 4), initializer="zeros", name="kernel") == ("kernel", (3, 4), "zeros")
    assert Trainer().add_weight((3, 4), "kernel") == ("kernel", (3, 4), None)
    assert Trainer().add_weight("kernel", (3, 4)) == ("kernel", (3, 4), None)


def test_raise_duplicate_arg_error_is_keras_message():
    with pytest.raises(TypeError, match=re.escape(
            "For the `rate` argument, the layer received both the legacy keyword argument `p` and the Keras 2 "
            "keyword argument `rate`. Stick to the latter!")):
        interfaces.raise_duplicate_arg_error("p", "rate")


# ---------------------------------------------------------------------------------------------------- generators
class Batches(Sequence):
    batch_size = 5

    def __init__(self):
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(20, 2)).astype("float32")
        self.y = rng.normal(size=(20, 1)).astype("float32")

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.x[i * 5:(i + 1) * 5], self.y[i * 5:(i + 1) * 5]

    def __repr__(self):
        return "Batches"


class BatchCounter(Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test = 0, 0

    def on_train_batch_end(self, batch, logs=None):
        self.train += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test += 1

    def __repr__(self):
        return "Counter"


SEMANTICS_WARNING = ("The semantics of the Keras 2 argument `steps_per_epoch` is not the same as the Keras 1 argument "
                     "`samples_per_epoch`. `steps_per_epoch` is the number of batches to draw from the generator at "
                     "each epoch. Basically steps_per_epoch = samples_per_epoch/batch_size. Similarly "
                     "`nb_val_samples`->`validation_steps` and `val_samples`->`steps` arguments have changed. Update "
                     "your method calls accordingly.")


def small_model():
    model = Sequential([L.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    return model


def test_fit_generator_divides_samples_per_epoch_by_the_generator_batch_size():
    model, counter = small_model(), BatchCounter()
    history, texts = build(model.fit_generator, Batches(), samples_per_epoch=10, nb_epoch=2, verbose=0,
                           callbacks=[counter])
    assert texts == [SEMANTICS_WARNING,
                     update("fit_generator(Batches, verbose=0, callbacks=[Counter], steps_per_epoch=2, epochs=2)")]
    assert counter.train == 4 and len(history.epoch) == 2


def test_evaluate_generator_renames_val_samples_to_steps_without_dividing():
    model, counter = small_model(), BatchCounter()
    _, texts = build(model.evaluate_generator, Batches(), val_samples=3, callbacks=[counter])
    assert texts[0] == SEMANTICS_WARNING
    assert texts[1].endswith("steps=3)`") and counter.test == 3
    with pytest.raises(TypeError, match=re.escape(
            "`evaluate_generator` can accept only 3 positional arguments ('generator', 'steps_per_epoch', "
            "'epochs'), but you passed the following positional arguments: [Batches, 1, None, 10]")):
        model.evaluate_generator(Batches(), 1, None, 10)
