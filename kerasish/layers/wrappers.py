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

from torch import nn

from kerasish.layers.base import KERAS, InputSpec, Layer
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


__all__ = ["Wrapper", "TimeDistributed"]
