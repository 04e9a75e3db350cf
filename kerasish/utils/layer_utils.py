"""Keras 2.3.1's ``keras.utils.layer_utils``: counting weights, the summary table, walking a graph back to its
inputs, and the weight conversions for models trained with another backend or data format.

``print_summary`` and ``count_params`` are ``model.summary``'s own (utils/summary.py). ``get_source_inputs``
walks the history every symbolic tensor carries (``_keras_history = (layer, node_index, tensor_index)``, the
nodes in ``layer._inbound_nodes``), as Keras's does.

``convert_all_kernels_in_model`` is not a no-op: Theano convolved (kernel flipped) where TensorFlow and torch
cross-correlate, so kernels trained with Keras's Theano backend give the same outputs here only once their
spatial axes are reversed. It does exactly that to the layers Keras converts (Conv1D, Conv2D, Conv3D,
Conv2DTranspose), through ``get_weights``/``set_weights`` in Keras layout; calling it twice restores them.
"""
from __future__ import annotations

import numpy as np

from kerasish.utils.conv_utils import convert_kernel
from kerasish.utils.generic_utils import keras_class_name
from kerasish.utils.summary import count_params, print_summary

__all__ = ["count_params", "print_summary", "convert_all_kernels_in_model", "convert_dense_weights_data_format",
           "get_source_inputs", "convert_kernel"]

# Keras 2.3.1 leaves out the separable convolutions (TensorFlow only, never Theano-trained)
_FLIPPED_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose")


def convert_all_kernels_in_model(model) -> None:
    """Reverses the spatial axes of the kernel of every Conv1D/2D/3D and Conv2DTranspose layer of ``model``
    (its top-level layers, as Keras 2.3.1): Theano-trained kernels <-> TensorFlow/torch ones."""
    converted = []
    for layer in model.layers:
        if keras_class_name(layer) in _FLIPPED_CONVOLUTIONS:
            weights = layer.get_weights()
            converted.append((layer, [convert_kernel(weights[0])] + weights[1:]))
    for layer, weights in converted:  # all computed first, then assigned (Keras's batch_set_value)
        layer.set_weights(weights)


def convert_dense_weights_data_format(dense, previous_feature_map_shape, target_data_format="channels_first"):
    """Reorders the rows of a ``Dense`` kernel that follows ``Flatten`` of a ``previous_feature_map_shape``
    feature map, for a convnet moved to ``target_data_format`` (Keras 2.3.1): each column, read as the
    flattened map in the other layout, is transposed to the target layout."""
    if target_data_format not in ("channels_last", "channels_first"):
        raise ValueError("convert_dense_weights_data_format: target_data_format must be 'channels_last' or "
                         f"'channels_first'; received {target_data_format!r}.")
    kernel, bias = dense.get_weights()
    if target_data_format == "channels_first":
        c, h, w = previous_feature_map_shape
        source_shape, axes = (h, w, c), (2, 0, 1)
    else:
        h, w, c = previous_feature_map_shape
        source_shape, axes = (c, h, w), (1, 2, 0)
    units = kernel.shape[1]
    columns = kernel.T.reshape((units,) + source_shape)  # one feature map per column
    kernel = columns.transpose((0,) + tuple(a + 1 for a in axes)).reshape(units, -1).T
    dense.set_weights([np.ascontiguousarray(kernel), bias])


def get_source_inputs(tensor, layer=None, node_index=None) -> list:
    """The ``Input`` tensors ``tensor`` is computed from, each once, in the order the walk meets them (Keras
    2.3.1). ``layer`` and ``node_index`` name the node that made ``tensor`` (default: its history); a value
    that is not a symbolic tensor comes back as it is."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    if layer is None:
        layer, node_index, _ = tensor._keras_history
    if not layer._inbound_nodes:
        return [tensor]
    node = layer._inbound_nodes[node_index or 0]
    if not node.input_tensors:  # an InputLayer's node: the walk's end
        return list(node.output_tensors)
    sources, seen = [], set()
    for parent in node.input_tensors:
        for source in get_source_inputs(parent):
            if id(source) not in seen:
                seen.add(id(source))
                sources.append(source)
    return sources
