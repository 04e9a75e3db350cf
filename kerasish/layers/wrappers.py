"""Layers that wrap another layer (Keras 2.3.1 ``keras/layers/wrappers.py``): the ``Wrapper`` base and
``TimeDistributed``.

A wrapper owns its wrapped layers (torch submodules, so their parameters train with the model) and has no
weights of its own: ``weights``, ``get_weights``/``set_weights``, ``count_params`` and ``trainable`` are the
wrapped layers', in their order (``_wrapped_layers``; ``[layer]`` here, a Bidirectional lists its forward and
backward layers). Its config nests the wrapped layer's as Keras 2.3.1 writes it
(``{'layer': {'class_name': ..., 'config': {...}}}``), and ``from_config`` builds that layer back through
``kerasish.saving.deserialize_layer``, so nested Lambdas, custom classes (``custom_objects``) and models load as
any layer does.

Layouts: a wrapper works in Keras's layout and calls the wrapped layer in Keras's layout too
(``Layer._call_in_keras_layout``), whatever layout that layer computes in: a channels_last ``Conv2D`` inside
``TimeDistributed`` gets its frames moved to channels-first as it would in a model.
"""
from __future__ import annotations

import inspect

import torch
from torch import nn

from kerasish.layers.base import KERAS, InputSpec, Layer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.layers.core import TorchModule
from kerasish.utils.generic_utils import keras_class_name
from kerasish.utils.nest import map_structure

def call_takes(layer: Layer, argument: str) -> bool:
    """Keras's ``has_arg(layer.call, argument)``: whether the layer's ``call`` names the argument."""
    try:
        parameters = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return argument in parameters


class Wrapper(Layer):
    """Keras 2.3.1 ``Wrapper(layer)``: the abstract base of layers that augment another layer. ``layer`` is a
    kerasish layer or model, or a plain ``torch.nn.Module`` (wrapped in ``TorchModule``, as ``Sequential.add`` does).

    As in Keras 2.3.1, ``trainable`` is the wrapped layer's: setting it on the wrapper sets it on the wrapped
    layer, and so does the constructor (``trainable=`` or its default True), so a frozen layer wrapped without
    ``trainable=False`` trains again. The wrapped layer's activity regularizer applies to its own output (all
    the wrapper's steps at once), added to the loss once; Keras 2.3.1's ``TimeDistributed`` adds it twice (in
    its ``call`` and again in ``Layer.__call__`` through ``Wrapper.activity_regularizer``).
    """

    input_layout = KERAS

    def __init__(self, layer, **kwargs):
        layer_type = type(self).__name__
        if not isinstance(layer, nn.Module):
            raise ValueError(f"Please initialize `{layer_type}` layer with a `Layer` instance. You passed: {layer}")
        super().__init__(**kwargs)
        self.layer = layer if isinstance(layer, Layer) else TorchModule(layer)
        self.trainable = self._trainable  # Keras 2.3.1: Layer.__init__ sets it, through the property below

    def _wrapped_layers(self) -> list[Layer]:
        """The layers whose weights are this wrapper's, in Keras's weight order."""
        return [self.layer]

    # ------------------------------------------------------------ trainable and weights: the wrapped layers'
    @property
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self._wrapped_layers())

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._wrapped_layers():
            layer.trainable = value

    def _apply_trainable(self) -> None:
        for layer in self._wrapped_layers():
            layer._enclosing_trainable = self._enclosing_trainable
            layer._apply_trainable()

    def _weight_tensors(self):
        return [pair for layer in self._wrapped_layers() for pair in layer._weight_tensors()]

    def keras_weight_specs(self):
        """The wrapped layers' weights, named as they name them (``kernel``: Keras 2.3.1 files name a wrapped
        Dense's kernel ``time_distributed_1/kernel:0``); a wrapped model's under its layers' names."""
        return [spec for layer in self._wrapped_layers() for spec in _named_weight_specs(layer)]

    # ------------------------------------------------------------ config
    def get_config(self):
        return {**super().get_config(),
                "layer": {"class_name": keras_class_name(self.layer), "config": self.layer.get_config()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Keras 2.3.1 ``Wrapper.from_config``: the wrapped layer from ``config['layer']`` (classes from
        ``custom_objects`` first), then ``cls(layer, **rest)``."""
        config = dict(config)
        layer_data = config.pop("layer", None)
        if not isinstance(layer_data, dict):
            raise ValueError(f"{cls.__name__}.from_config: the config must hold the wrapped layer as "
                             f"'layer': {{'class_name': ..., 'config': {{...}}}}; received {layer_data!r:.200}.")
        from kerasish.saving import deserialize_layer  # saving finds classes by name; it never imports wrappers
        return cls(deserialize_layer(layer_data, custom_objects), **config)


def _named_weight_specs(layer: Layer) -> list:
    inner_layers = getattr(layer, "layers", None)  # a model used as a layer lists its layers' weights
    if isinstance(inner_layers, list):
        return [(f"{inner.name}/{attr}", layout) for inner in inner_layers for attr, layout in
                _named_weight_specs(inner)]
    return list(layer.keras_weight_specs())


class TimeDistributed(Wrapper):
    """``TimeDistributed(layer)``: applies ``layer`` to every temporal slice of an input ``(batch, time, ...)``
    (Keras 2.3.1): ``Dense`` on ``(batch, time, features)``, ``Conv2D`` on ``(batch, time, h, w, c)``, a model,
    an RNN on ``(batch, time, steps, features)`` ... The slices go through the layer as one batch of
    ``batch * time`` samples and come back as ``(batch, time, ...)``: Keras 2.3.1's reshape path, which it takes
    whenever the batch size is not fixed (a fixed one steps through time with ``K.rnn`` instead, with the same
    result for layers without state; kerasish reshapes always, and treats masks as the reshape path does).

    Masks: a ``(batch, time, ...)`` mask reaches the layer as ``(batch * time, ...)`` when its ``call`` takes
    ``mask``; the output mask is the layer's own output mask, back in ``(batch, time, ...)``, or else the mask
    that came in, reduced to ``(batch, time)`` (``compute_mask``).
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self._layer_takes_mask = call_takes(self.layer, "mask")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            # Keras 2.3.1 asserts len(input_shape) >= 3 without a message; tf.keras's wording
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape ` with at least 3 "
                             f"dimensions, received: {input_shape}")
        self.input_spec = InputSpec(shape=input_shape)
        self.layer._build_once((input_shape[0],) + input_shape[2:])
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        # inputs: (batch, time, *rest) -> (batch * time, *rest) through the layer -> (batch, time, *out)
        batch, time = inputs.shape[0], inputs.shape[1]
        kwargs = {}
        if self.layer._call_takes_training():
            kwargs["training"] = training
        if mask is not None and self._layer_takes_mask:
            kwargs["mask"] = mask.flatten(0, 1)
        outputs = self.layer._call_in_keras_layout(inputs.flatten(0, 1), **kwargs)
        return map_structure(lambda t: t.unflatten(0, (batch, time)), outputs)

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1 ``TimeDistributed.compute_mask`` (reshape path): the wrapped layer's output mask for the
        ``batch * time`` slices, reshaped to ``(batch, time, ...)``; when it makes none, the input mask with
        every axis after time reduced by ``any``; None when neither exists."""
        inner_mask = None if mask is None else mask.flatten(0, 1)
        output_mask = self.layer.compute_mask(inputs.flatten(0, 1), inner_mask)
        if output_mask is not None:
            return output_mask.unflatten(0, (inputs.shape[0], inputs.shape[1]))
        if mask is None or mask.dim() <= 2:
            return mask
        return mask.flatten(2).any(dim=-1)


MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Wrapper):
    """``Bidirectional(layer, merge_mode='concat', weights=None, backward_layer=None)`` (Keras 2.3.1; the
    ``backward_layer`` argument as tf.keras has it): ``layer`` (an RNN) reads the sequence forwards, a copy with
    the opposite ``go_backwards`` reads it backwards, and their outputs are merged: ``'concat'`` (last axis),
    ``'sum'``, ``'mul'``, ``'ave'``, or ``None`` (a list of both). With ``return_sequences`` the backward outputs
    are put back in time order before merging; with ``return_state`` the forward states, then the backward
    ones, follow the output.

    The two layers are named ``forward_<name>`` and ``backward_<name>``; ``get_weights`` lists the forward
    layer's weights, then the backward layer's (Keras's order), and ``weights=`` splits a list in two halves.
    ``initial_state`` holds the forward layer's states, then the backward layer's. Masks reach both layers.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if merge_mode not in MERGE_MODES:
            raise ValueError('Invalid merge mode. Merge mode should be one of {"sum", "mul", "ave", "concat", None}; '
                             f"received {merge_mode!r}.")
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional: `layer` must be a recurrent layer (an RNN, LSTM, GRU ... with "
                             f"`go_backwards`); received {layer!r:.100}.")
        original_name = layer.name
        backward = backward_layer if backward_layer is not None else _reversed_copy(layer)
        _check_backward_layer(layer, backward)
        super().__init__(layer, **kwargs)
        self._layer_name = original_name  # the config describes the layer as it was given
        self.backward_layer = backward
        layer.name = f"forward_{original_name}"
        if backward_layer is None:
            backward.name = f"backward_{original_name}"
        self.trainable = self._trainable  # both layers (Wrapper.__init__ set the forward one before this existed)
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.input_spec = layer.input_spec
        self._custom_backward = backward_layer is not None
        # the forward layer's weights, then the backward layer's: the order set_weights takes them in
        self._initial_weights = list(weights) if weights else None

    @property
    def forward_layer(self) -> Layer:
        return self.layer

    def _wrapped_layers(self) -> list[Layer]:
        backward = self.__dict__.get("_modules", {}).get("backward_layer")
        return [self.layer] if backward is None else [self.layer, backward]

    def __call__(self, inputs, initial_state=None, **kwargs):
        if isinstance(inputs, list) and len(inputs) > 1:
            if initial_state is not None:
                raise ValueError("Layer was passed initial state via both kwarg and inputs list)")
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is None:
            return super().__call__(inputs, **kwargs)
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(initial_state) % 2:
            raise ValueError("When passing `initial_state` to a Bidirectional RNN, the state should be a list "
                             f"containing the states of the underlying RNNs. Found: {initial_state}")
        symbolic = [isinstance(t, KerasTensor) for t in initial_state]
        if any(symbolic) != all(symbolic) or (all(symbolic) and not isinstance(inputs, KerasTensor)):
            raise ValueError("The initial state of a Bidirectional layer cannot be specified with a mix of Keras "
                             'tensors and non-Keras tensors (a "Keras tensor" is a tensor that was returned by a '
                             "Keras layer, or by `Input`)")
        if all(symbolic):
            # graph inputs of the call, as Keras 2.3.1 records them: [inputs, *forward states, *backward states]
            return super().__call__([inputs] + initial_state, **kwargs)
        return super().__call__(inputs, initial_state=initial_state, **kwargs)

    def build(self, input_shape):
        sequence_shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        self.layer._build_once(sequence_shape)
        self.backward_layer._build_once(sequence_shape)
        super().build(input_shape)

    def assert_input_compatibility(self, inputs) -> None:
        """The sequence against the layer's spec (initial states in the input list are the RNNs' to check)."""
        super().assert_input_compatibility(inputs[0] if isinstance(inputs, (list, tuple)) else inputs)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self._run(self.layer, inputs, mask, training, forward_state)
        y_rev = self._run(self.backward_layer, inputs, mask, training, backward_state)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)  # the backward layer's outputs come last step first
        output = _merged(y, y_rev, self.merge_mode)
        if not self.return_state:
            return output
        return (output if self.merge_mode is None else [output]) + states

    @staticmethod
    def _run(layer, inputs, mask, training, initial_state):
        kwargs = {}
        if layer._call_takes("training"):
            kwargs["training"] = training
        if mask is not None and layer._call_takes("mask"):
            kwargs["mask"] = mask
        if initial_state is not None:
            kwargs["initial_state"] = initial_state
        return layer._call_in_keras_layout(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1: the sequence's mask for merged sequences (twice when ``merge_mode=None``), None for last
        outputs, and None for each state."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if not self.return_state:
            return output_mask
        state_masks = [None] * (2 * len(self.layer.states))
        return (output_mask if isinstance(output_mask, list) else [output_mask]) + state_masks

    def reset_states(self) -> None:
        self.layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        config = super().get_config()
        config["layer"]["config"] = {**config["layer"]["config"], "name": self._layer_name}
        config["merge_mode"] = self.merge_mode
        if self.__dict__.get("_custom_backward"):
            config["backward_layer"] = {"class_name": keras_class_name(self.backward_layer),
                                        "config": self.backward_layer.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        backward_data = config.pop("backward_layer", None)
        if backward_data is not None:
            from kerasish.saving import deserialize_layer
            config["backward_layer"] = deserialize_layer(backward_data, custom_objects)
        return super().from_config(config, custom_objects)


def _reversed_copy(layer: Layer) -> Layer:
    """Keras 2.3.1: the backward layer is the layer's class made from its config, ``go_backwards`` flipped."""
    config = layer.get_config()
    config["go_backwards"] = not config["go_backwards"]
    return type(layer).from_config(config)


def _check_backward_layer(forward: Layer, backward: Layer) -> None:
    """tf.keras's checks of a ``backward_layer`` given by the user."""
    if backward is None:
        return
    if not hasattr(backward, "go_backwards"):
        raise ValueError(f"Bidirectional: `backward_layer` must be a recurrent layer; received {backward!r:.100}.")
    if backward.go_backwards == forward.go_backwards:
        raise ValueError("Forward layer and backward layer should have different `go_backwards` value. "
                         f"forward_layer.go_backwards = {forward.go_backwards}, "
                         f"backward_layer.go_backwards = {backward.go_backwards}")
    for attr in ("stateful", "return_sequences", "return_state"):
        if getattr(forward, attr) != getattr(backward, attr):
            raise ValueError(f"Forward layer and backward layer are expected to have the same value for attribute "
                             f'"{attr}", got "{getattr(forward, attr)}" for forward layer and '
                             f'"{getattr(backward, attr)}" for backward layer')


def _merged(y, y_rev, merge_mode):
    if merge_mode == "concat":
        return torch.cat([y, y_rev], dim=-1)
    if merge_mode == "sum":
        return y + y_rev
    if merge_mode == "ave":
        return (y + y_rev) / 2
    if merge_mode == "mul":
        return y * y_rev
    return [y, y_rev]


__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]
