"""Every public name of Keras 2.3.1's ``keras.layers`` exists in ``kerasish.layers`` and is what Keras has there:
a layer class (or an alias of one), a function, or Keras's ``serialize``/``deserialize``. The checklist is
tests/fixtures/keras231_names/keras.layers.txt, taken from keras/layers/__init__.py of the Keras 2.3.1 wheel."""
import inspect
import pathlib

import pytest

import kerasish.layers as L
from kerasish.layers.base import Layer

CHECKLIST = pathlib.Path(__file__).parent / "fixtures" / "keras231_names" / "keras.layers.txt"
NAMES = [line.strip() for line in CHECKLIST.read_text().splitlines() if line.strip() and not line.startswith("#")]
# Keras 2.3.1 functions among the names (merge helpers, the legacy Atrous* factories, Input, (de)serialize)
FUNCTIONS = {"Input", "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
             "AtrousConvolution1D", "AtrousConvolution2D", "serialize", "deserialize"}
NOT_LAYERS = {"InputSpec"}


def test_the_checklist_is_keras_list():
    assert len(NAMES) == len(set(NAMES)) == 114
    assert {"LSTM", "Bidirectional", "ConvLSTM2DCell", "Highway", "serialize"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_keras_layers_name_exists(name):
    value = getattr(L, name, None)
    assert value is not None, f"kerasish.layers has no {name} (Keras 2.3.1 keras.layers has it)"
    if name in FUNCTIONS:
        assert callable(value) and not inspect.isclass(value)
    elif name not in NOT_LAYERS:
        assert inspect.isclass(value) and issubclass(value, Layer)


def test_serialize_and_deserialize_round_trip_a_layer():
    dense = L.Dense(3, activation="relu", name="dense_x")
    config = L.serialize(dense)
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    again = L.deserialize(config)
    assert type(again) is L.Dense and again.get_config() == dense.get_config()
