"""Every lookup of a name suggests the closest valid names first, then still lists the valid ones (issue 15)."""
import pytest

from kerasish import activations, constraints, initializers, losses, metrics, mixed_precision, optimizers
from kerasish import regularizers
from kerasish.layers import RNN, Dense, deserialize
from kerasish.models import Sequential
from kerasish.preprocessing.image import ImageDataGenerator
from kerasish.utils.generic_utils import deserialize_keras_object
from kerasish.utils.validation import close_matches, did_you_mean


def message_of(call) -> str:
    with pytest.raises(ValueError) as err:
        call()
    return str(err.value)


def assert_suggests_before_listing(message: str, suggestion: str, listed: str):
    hint = f"Did you mean {suggestion!r}?"
    assert hint in message, message
    assert listed in message, message
    assert message.index(hint) < message.rindex(listed), message


def test_close_matches_ignores_case_and_keeps_only_names_as_close_as_the_best():
    assert close_matches("ADM", ["sgd", "adam", "nadam", "adamax"]) == ["adam"]
    assert close_matches("val_acc", ["val_acc1", "val_acc2", "loss"]) == ["val_acc1", "val_acc2"]
    assert close_matches("zzz", ["adam", "sgd"]) == []
    assert did_you_mean("zzz", ["adam"]) == ""
    assert did_you_mean("catgorical_crossentropy", ["categorical_crossentropy", "binary_crossentropy"]) == \
        " Did you mean 'categorical_crossentropy'?"


def test_unknown_loss():
    message = message_of(lambda: losses.get("catgorical_crossentropy"))
    assert message.startswith("loss: Unknown loss function: 'catgorical_crossentropy'. Did you mean "
                              "'categorical_crossentropy'? Expected one of the Keras loss names [")
    assert "'sparse_categorical_crossentropy'" in message  # the list is still there
    assert_suggests_before_listing(message_of(lambda: losses.get({"class_name": "MeanSquaredErorr"})),
                                   "MeanSquaredError", "'MeanAbsoluteError'")


def test_unknown_loss_and_metric_through_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    assert_suggests_before_listing(message_of(lambda: model.compile("sgd", "mean_sqared_error")),
                                   "mean_squared_error", "'mse'")
    assert_suggests_before_listing(message_of(lambda: model.compile("sgd", "mse", metrics=["accurcy"])),
                                   "accuracy", "'binary_accuracy'")
    assert_suggests_before_listing(message_of(lambda: model.compile("adm", "mse")), "adam", "'rmsprop'")


def test_unknown_metric():
    assert_suggests_before_listing(message_of(lambda: metrics.resolve("categorical_acuracy", "mse", (1,))),
                                   "categorical_accuracy", "'top_k_categorical_accuracy'")


def test_unknown_optimizer_any_case():
    message = message_of(lambda: optimizers.get("RMSProb"))
    assert message.startswith("optimizer: Unknown optimizer: 'RMSProb'. Did you mean 'rmsprop'? Known names")


def test_unknown_activation_initializer_regularizer_constraint():
    assert_suggests_before_listing(message_of(lambda: activations.get("rellu")), "relu", "'softmax'")
    assert_suggests_before_listing(message_of(lambda: Dense(2, activation="sofmax")), "softmax", "'relu'")
    assert_suggests_before_listing(message_of(lambda: initializers.get("glorot_unifrom")), "glorot_uniform",
                                   "'he_normal'")
    # class names are found through their snake_case names (GlorotUniform -> glorot_uniform)
    assert_suggests_before_listing(message_of(lambda: initializers.get({"class_name": "GlorotUnifrom"})),
                                   "glorot_uniform", "'he_normal'")
    assert_suggests_before_listing(message_of(lambda: regularizers.get("l1l2")), "l1_l2", "'l2'")
    assert_suggests_before_listing(message_of(lambda: constraints.get("non_negative")), "non_neg", "'unit_norm'")


def test_unknown_layer_class_in_a_config():
    message = message_of(lambda: deserialize({"class_name": "Dnse", "config": {"units": 2}}))
    assert message.startswith("Unknown layer: Dnse. Did you mean 'Dense'? A custom layer class must be passed by "
                              "name: custom_objects={'Dnse': Dnse}.")
    cell = {"class_name": "LSTMCel", "config": {"units": 2}}
    message = message_of(lambda: RNN.from_config({"cell": cell, "name": "r"}))
    assert message.startswith("Unknown layer: LSTMCel. Did you mean 'LSTMCell'? A custom cell class")


def test_unknown_custom_object_name():
    message = message_of(lambda: deserialize_keras_object("my_lossy", module_objects={"my_loss": 1},
                                                          custom_objects={"other": 2},
                                                          printable_module_name="loss function"))
    assert message.startswith("Unknown loss function: my_lossy. Did you mean 'my_loss'? A custom loss function")


def test_unknown_layer_name_in_get_layer():
    model = Sequential([Dense(2, input_shape=(3,), name="hidden"), Dense(1, name="output")])
    assert_suggests_before_listing(message_of(lambda: model.get_layer("hiden")), "hidden", "['hidden', 'output']")


def test_small_enumerations_suggest_too():
    assert "Did you mean 'nearest'?" in message_of(lambda: ImageDataGenerator(fill_mode="nearst"))
    assert "Did you mean 'mixed_float16'" in message_of(lambda: mixed_precision.Policy("mixed_floa16"))


def test_unknown_keyword_arguments_of_fit():
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match=r"Unrecognized keyword arguments: 'epoch' \(did you mean 'epochs'\?\)"):
        model.fit([[0.0, 0.0, 0.0]], [[0.0]], epoch=2)
