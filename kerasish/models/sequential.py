"""``Sequential``: a linear stack of layers, itself a functional model once its input shape is known.

As Keras 2.3.1's ``Sequential``, it calls each layer on the previous layer's output as soon as the input shape
is declared (``input_shape=`` on the first layer, or an ``InputLayer``), or at ``build()`` / the first batch.
From then on it has ``input``, ``output`` and every layer's ``output``, so ``Model(seq.input,
seq.layers[-2].output)`` is a feature extractor that shares the trained weights.
"""
from __future__ import annotations

import warnings

from torch import nn

from kerasish import backend
from kerasish.layers.core import as_layer
from kerasish.layers.input_layer import InputLayer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.models.functional import Functional


# Keras dtype name -> torch dtype, for the per-step input cast (the name is standardized once, not every step)
_TORCH_DTYPES: dict = {}  # dtype name -> torch dtype, asked every step (a dict: torch.compile traces it cleanly)


def _torch_dtype(name):
    dtype = _TORCH_DTYPES.get(name)
    if dtype is None:
        dtype = _TORCH_DTYPES[name] = backend.torch_dtype(name)
    return dtype


def _input_dtype_of(first_layer) -> str:
    """The dtype of the implicit input: the first layer's ``dtype`` (Keras 2.3.1), or the ``input_dtype`` a
    layer of integer inputs declares (Embedding: its indices pass through exactly, not as float32)."""
    return first_layer.input_dtype or first_layer.dtype


class Sequential(Functional):
    """A linear stack of layers: ``Sequential([Dense(64, input_dim=20), Dense(1)])``."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__(name=name or f"sequential_{backend.get_uid('sequential')}")
        self._stack = nn.ModuleList()
        self.__dict__["_stack_outputs"] = []  # the symbolic output after each entry of _stack, once built
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list:
        """The layers, without the InputLayer (as Keras 2.3.1's Sequential.layers)."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer) -> None:
        layer = as_layer(layer)
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError("All layers added to a Sequential model should have unique names. Name "
                             f'"{layer.name}" is already the name of a layer in this model. Update the `name` '
                             "argument to pass a unique name.")
        # tf.keras configs repeat the InputLayer's shape in the next layer: the same shape, nothing ignored
        repeats_input = len(self._stack) == 1 and isinstance(self._stack[0], InputLayer) \
            and tuple(self._stack[0].batch_input_shape) == tuple(layer.batch_input_shape or ())
        if len(self._stack) and layer.batch_input_shape is not None and not isinstance(layer, InputLayer) \
                and not repeats_input:
            warnings.warn(f"Sequential.add: input_shape of {layer.name} is ignored; only the first layer's "
                          "input shape defines the model input.", stacklevel=2)
        self._stack.append(layer)
        self.__dict__["_first_layer"] = None  # found again by _input_dtypes
        if self.built:
            self._call_on_last_output(layer)
        elif len(self._stack) == 1 and layer.batch_input_shape is not None:
            self.build(layer.batch_input_shape)

    def pop(self) -> None:
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self._stack = nn.ModuleList(list(self._stack)[:-1])
        self.__dict__["_first_layer"] = None
        if self.built:
            del self._stack_outputs[-1]
            if self.layers:
                self._init_graph(self.inputs[0], self._stack_outputs[-1])
            else:
                self._stack_outputs.clear()
                self.built = False

    # ------------------------------------------------------------------ building
    def build(self, input_shape=None) -> None:
        """Create all weights for inputs of shape ``input_shape`` (with the batch dim, e.g. ``(None, 784)``)."""
        if input_shape is None:
            first = self._stack[0] if len(self._stack) else None
            input_shape = first.batch_input_shape if first is not None else None
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if not len(self._stack):
            raise TypeError("Sequential: add layers before building the model.")
        first = self._stack[0]
        if isinstance(first, InputLayer):
            tensor, rest = first.output, list(self._stack)[1:]
        else:
            # Keras 2.3.1 names the implicit input after the first layer
            shape = (input_shape[0],) + tuple(input_shape[1:])
            tensor = InputLayer(batch_input_shape=shape, name=f"{first.name}_input", dtype=_input_dtype_of(first)).output
            rest = list(self._stack)
        self._stack_outputs.clear()
        self._stack_outputs.append(tensor)
        for layer in rest:
            tensor = self._checked_single(layer(tensor), layer)
            self._stack_outputs.append(tensor)
        self._init_graph(self._stack_outputs[0], tensor)

    def _call_on_last_output(self, layer) -> None:
        tensor = self._checked_single(layer(self._stack_outputs[-1]), layer)
        self._stack_outputs.append(tensor)
        self._init_graph(self.inputs[0], tensor)

    @staticmethod
    def _checked_single(output, layer) -> KerasTensor:
        if not isinstance(output, KerasTensor):
            raise TypeError(f"All layers in a Sequential model should have a single output tensor. For multi-output "
                            f"layers, use the functional API. ({layer.name} returned {type(output).__name__}.)")
        return output

    def _build_for(self, x) -> None:
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))

    def _input_dtypes(self) -> list:
        """The first layer's dtype (Keras 2.3.1 ``Sequential.add`` makes the model's ``Input`` with
        ``first_layer.dtype``), or floatx while there is no layer or it is not a float type: integer images are
        cast on the device. A first layer that declares ``input_dtype`` (Embedding) gets its inputs in that dtype.
        Asked at every step: the answer is kept with what it was made from (the first layer, found again after
        ``add``/``pop``; its dtype, which ``.double()`` changes; floatx) and made again when any of them changed."""
        first = self.__dict__.get("_first_layer")
        if first is None:
            first = self.__dict__["_first_layer"] = next(
                (layer for layer in self._stack if not isinstance(layer, InputLayer)), None)
        name = None if first is None else _input_dtype_of(first)
        made_from = (first, name, backend.floatx())
        kept = self.__dict__.get("_kept_input_dtypes")
        if kept is not None and kept[0] == made_from:
            return kept[1]
        dtype = backend.torch_floatx() if name is None else _torch_dtype(name)
        # a declared input dtype (Embedding's int32) is kept; a layer's own non-float dtype is not
        dtypes = [dtype if dtype.is_floating_point or first.input_dtype is not None else backend.torch_floatx()]
        self.__dict__["_kept_input_dtypes"] = (made_from, dtypes)
        return dtypes

    @property
    def input_names(self) -> list[str]:
        # Keras 2.3.1 names the implicit input after the first layer, also before it exists
        return super().input_names if self.built or not self.layers else [f"{self.layers[0].name}_input"]

    @property
    def output_names(self) -> list[str]:
        return super().output_names if self.built or not self.layers else [self.layers[-1].name]

    # ------------------------------------------------------------------ Keras 2.3.1 Sequential extras
    def predict_proba(self, x, batch_size=32, verbose=0):
        """Keras 2.3.1 Sequential.predict_proba: predict, warning when outputs are not probabilities."""
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Keras 2.3.1: argmax over the last axis, or ``p > 0.5`` for a single output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        from kerasish import saving
        return saving.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None) -> "Sequential":
        from kerasish import saving
        return saving.sequential_from_config(config, custom_objects=custom_objects, cls=cls)
