"""``clone_model``: the same architecture with new layers, hence new weights (Keras 2.3.1 ``keras/models.py``;
``clone_function`` as tf.keras 2.x added it)."""
from __future__ import annotations

import copy
import warnings

from kerasish.layers.base import Layer
from kerasish.layers.core import Lambda, TorchModule
from kerasish.layers.input_layer import Input, InputLayer
from kerasish.layers.keras_tensor import KerasTensor
from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.utils.nest import flatten, map_structure, pack_like


def clone_model(model, input_tensors=None, clone_function=None):
    """A copy of ``model`` (Sequential or functional) made of new layers with the same configs: the weights are
    new (initialised again, not copied; ``clone.set_weights(model.get_weights())`` copies them).

    # Arguments
        model: a ``Sequential`` or functional model (a ``Model`` subclass with ``call`` cannot be cloned).
        input_tensors: Keras tensors (from ``Input``) to build the copy on, instead of new inputs like the
            model's. A Sequential model takes one, which must come from an ``Input``.
        clone_function: ``layer -> layer`` applied to every layer but the input layers (tf.keras 2.x). The
            default makes a new layer from the layer's config (Keras 2.3.1
            ``layer.__class__.from_config(layer.get_config())``); a ``Lambda`` keeps its function, a
            ``TorchModule`` gets a re-initialised copy of its module, a nested model is cloned. Returning the
            layer itself shares it (and its weights) with the original.
    """
    if not isinstance(model, Model):
        raise ValueError(f"clone_model: Expected `model` argument to be a `Model` instance, got {model!r:.200}.")
    clone_function = clone_function or _clone_layer
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if not model._is_graph_network:
        # tf.keras 2.x wording
        raise ValueError(f"clone_model: Expected `model` argument to be a functional `Model` instance, but got a "
                         f"subclass model instead ({type(model).__name__}). Its graph is the code of its call "
                         "method: make a new instance of the class instead.")
    return _clone_functional(model, input_tensors, clone_function)


def _clone_layer(layer: Layer) -> Layer:
    if isinstance(layer, Model):
        return clone_model(layer)
    if isinstance(layer, Lambda):  # its config names the function; the clone keeps the function itself
        return Lambda(layer.function, output_shape=layer.declared_output_shape, arguments=dict(layer.arguments),
                      name=layer.name, trainable=layer.trainable, dtype=layer.dtype,
                      batch_input_shape=layer.batch_input_shape)
    if isinstance(layer, TorchModule):
        module = copy.deepcopy(layer.module)
        for submodule in module.modules():
            if hasattr(submodule, "reset_parameters"):
                submodule.reset_parameters()
        return TorchModule(module, name=layer.name, trainable=layer.trainable, dtype=layer.dtype,
                           batch_input_shape=layer.batch_input_shape)
    return layer.__class__.from_config(layer.get_config())


def _clone_sequential(model: Sequential, input_tensors, clone_function) -> Sequential:
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is None:
        first = model._stack[0] if len(model._stack) else None
        # Keras 2.3.1 drops an InputLayer the model starts with (Sequential.layers leaves it out), leaving the
        # copy unbuilt; tf.keras keeps it, as here.
        head = [InputLayer(batch_input_shape=first.batch_input_shape, dtype=first.dtype, name=first.name)] \
            if isinstance(first, InputLayer) else []
        clone = Sequential(head + layers, name=model.name)
        if model.built and not clone.built:
            clone.build(model.input_shape)
        return clone
    tensors = flatten(input_tensors)
    if len(tensors) != 1:
        raise ValueError("To clone a `Sequential` model, we expect at most one tensor as part of `input_tensors`.")
    origin = tensors[0]._keras_history[0] if isinstance(tensors[0], KerasTensor) else None
    if not isinstance(origin, InputLayer):
        raise ValueError("Cannot clone a `Sequential` model on top of a tensor that comes from a Keras layer other "
                         "than an `InputLayer`. Use the functional API instead." if origin is not None else
                         "clone_model: input_tensors must be Keras tensors made by Input(...); received "
                         f"{type(tensors[0]).__name__}.")
    with warnings.catch_warnings():
        # the first layer's declared input shape is the model's own: nothing the user should hear about
        warnings.filterwarnings("ignore", message="Sequential.add: input_shape of", category=UserWarning)
        return Sequential([origin] + layers, name=model.name)


def _clone_functional(model: Functional, input_tensors, clone_function) -> Functional:
    """Keras 2.3.1 ``_clone_functional_model``: the model's calls made again, in run order, by the cloned
    layers on the new tensors (a shared layer is cloned once and shared again)."""
    if input_tensors is None:
        new_inputs = []
        for tensor in model.inputs:
            layer = tensor._keras_history[0]
            if isinstance(layer, InputLayer):
                batch_shape, dtype = layer.batch_input_shape, layer.dtype
            else:
                batch_shape, dtype = tensor.shape, str(tensor.dtype).replace("torch.", "")
            new_inputs.append(Input(batch_shape=batch_shape, dtype=dtype, name=layer.name))
    else:
        new_inputs = flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(f"clone_model: the model has {len(model.inputs)} input(s); received "
                             f"{len(new_inputs)} input tensor(s).")
        for tensor in new_inputs:
            if not isinstance(tensor, KerasTensor):
                raise ValueError("clone_model: input_tensors must be Keras tensors made by Input(...) (or by a "
                                 f"layer called on one); received {type(tensor).__name__}.")
    new_tensor = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    new_layer: dict[int, Layer] = {}
    for node in model._plan.nodes:
        if all(id(t) in new_tensor for t in node.output_tensors):
            continue  # an input
        operation = node.operation
        if isinstance(operation, Layer):
            if id(operation) not in new_layer:
                new_layer[id(operation)] = clone_function(operation)
            call = new_layer[id(operation)]
        else:
            call = operation.func  # a torch op: applied to the new tensors, it is recorded again
        swap = lambda v: new_tensor[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
        outputs = call(*map_structure(swap, list(node.call_args)), **map_structure(swap, node.call_kwargs))
        for old, new in zip(node.output_tensors, [t for t in flatten(outputs) if isinstance(t, KerasTensor)]):
            new_tensor[id(old)] = new
    outputs = [new_tensor[id(t)] for t in model.outputs]
    return Functional(pack_like(model._input_structure, new_inputs), pack_like(model._output_structure, outputs),
                      name=model.name)


__all__ = ["clone_model"]
