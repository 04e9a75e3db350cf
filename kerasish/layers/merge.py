"""Merge layers (Keras 2.3.1 ``keras/layers/merge.py``): Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot, and their functional forms add, subtract, ... dot.

A merge layer is called on a list of tensors and built from the list of their Keras shapes (batch dim
``None``). Called eagerly on real tensors (``Add()([a, b])``) it builds itself on its first call; in a model
the model builds it first, from Keras shapes.

Layouts (see ``base.py``): the elementwise layers work in any layout (``ANY``) as long as their inputs have
one rank, since every input then carries the same permutation and broadcasts the same way. Inputs of
different ranks are broadcast by inserting axes after the batch axis (Keras's reshape), which is only right in
Keras's layout, so ``build`` switches such a layer to ``KERAS``. Concatenate and Dot take Keras axes and
declare ``KERAS``: a conv feature map sits in channels_last memory, so moving it to Keras's layout is a free
view and ``torch.cat`` on those views writes the same memory it would have written in channels-first, while
mapping the axis instead would need each call to know which layout its inputs arrived in.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from kerasish.layers.base import ANY, KERAS, Layer
from kerasish.layers.keras_tensor import any_symbolic

_NOT_A_LIST = "A merge layer should be called on a list of inputs."


class _Merge(Layer):
    """Keras 2.3.1 ``_Merge``: the elementwise merges, with its shape checks and broadcasting rules."""

    input_layout = ANY

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    # ------------------------------------------------------------ building
    def __call__(self, inputs, *args, **kwargs):
        if not self.built and not any_symbolic(inputs):
            # Eager first call: the tensors are at the API, so in Keras's layout (and must be tensors).
            self._build_once(_keras_shapes(inputs))
        return super().__call__(inputs, *args, **kwargs)

    def forward(self, inputs):
        if not _is_sequence(inputs):
            raise ValueError(_NOT_A_LIST)
        return super().forward(list(inputs))

    def build(self, input_shape) -> None:
        shapes = _shape_list(input_shape)
        self._check_shapes(shapes)
        if None in shapes or len({len(s) for s in shapes}) > 1:
            self.input_layout = KERAS   # inputs of different ranks gain axes after the batch axis: see the docstring
        super().build(input_shape)

    def _check_shapes(self, shapes) -> None:
        """Keras 2.3.1 ``_Merge.build``'s checks, which are all it does: raises on shapes that cannot merge."""
        if shapes is None:
            raise ValueError(_NOT_A_LIST)
        if len(shapes) < 2:
            raise ValueError(f"A merge layer should be called on a list of at least 2 inputs. "
                             f"Got {len(shapes)} inputs.")
        batch_sizes = {s[0] for s in shapes if s is not None} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Can not merge tensors with different batch sizes. Got tensors with shapes : {shapes}")
        output_shape = None if shapes[0] is None else shapes[0][1:]
        for shape in shapes[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, None if shape is None else shape[1:])

    def _compute_elemwise_op_output_shape(self, shape1, shape2):
        """Shape of an elementwise op on two shapes without the batch axis, aligned on their last axes as in
        NumPy (Keras 2.3.1 ``_Merge._compute_elemwise_op_output_shape``); None for an unknown shape."""
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        output_shape = list(shape1[:len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                output_shape.append(None)
            elif i == 1 or j == 1:
                output_shape.append(j if i == 1 else i)
            elif i != j:
                raise ValueError(f"Operands could not be broadcast together with shapes {shape1} {shape2}")
            else:
                output_shape.append(i)
        return tuple(output_shape)

    # ------------------------------------------------------------ calling
    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        if not _is_sequence(inputs):
            raise ValueError(_NOT_A_LIST)
        batch_sizes = {x.shape[0] for x in inputs if x.dim() > 0}
        if len(batch_sizes) > 1:   # the eager build saw batch dims None; a shape read, no device sync
            raise ValueError(f"Can not merge tensors with different batch sizes. Got tensors with shapes : "
                             f"{[tuple(x.shape) for x in inputs]}")
        ranks = [x.dim() for x in inputs]
        if len(set(ranks)) > 1:
            # Keras 2.3.1 _Merge.call: expand each input at axis 1 until all have the highest rank, so that
            # (n, c) meets (n, h, w, c) as (n, 1, 1, c), as the shape check above aligned them.
            top = max(ranks)
            inputs = [x.reshape(x.shape[:1] + (1,) * (top - x.dim()) + x.shape[1:]) for x in inputs]
        return self._merge_function(list(inputs))

    def _merge_function(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The logical and of the inputs' masks, None when no input has one (Keras 2.3.1 ``_Merge``)."""
        masks = _given_masks(inputs, mask)
        if masks is None:
            return None
        return torch.stack([m.bool() for m in masks if m is not None]).all(dim=0)


class Add(_Merge):
    """``Add()([a, b, ...])``: the elementwise sum of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x   # never in place: the inputs belong to the caller
        return output

    def call_in_place(self, inputs: list):
        """``call(inputs)`` written over ``inputs[0]`` (the same additions in the same order, so bit-identical),
        or None where the sum would not fit in it (another shape, dtype or device: broadcasting, promotion).
        Only for a first input no one else reads: models/graph.py decides when (a ResNet's residual sums)."""
        first = inputs[0]
        if self.cast_inputs(first) is not first or any(
                x.shape != first.shape or x.dtype != first.dtype or x.device != first.device for x in inputs[1:]):
            return None
        for x in inputs[1:]:
            first.add_(x)
        return first


class Subtract(_Merge):
    """``Subtract()([a, b])``: ``a - b``, for exactly two inputs."""

    def _check_shapes(self, shapes):
        super()._check_shapes(shapes)
        if len(shapes) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """``Multiply()([a, b, ...])``: the elementwise product of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output


class Average(_Merge):
    """``Average()([a, b, ...])``: the elementwise mean of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(_Merge):
    """``Maximum()([a, b, ...])``: the elementwise maximum of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.maximum(output, x)
        return output


class Minimum(_Merge):
    """``Minimum()([a, b, ...])``: the elementwise minimum of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = torch.minimum(output, x)
        return output


class Concatenate(_Merge):
    """``Concatenate(axis=-1)([a, b, ...])``: the inputs joined along ``axis``, a Keras axis that counts the
    batch axis as 0; every other dimension must match."""

    input_layout = KERAS   # axis is a Keras axis: see the module docstring

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"Concatenate: axis must be an integer; received {axis!r}.")
        self.axis = int(axis)

    def _check_shapes(self, shapes):
        if shapes is None or len(shapes) < 2:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 2 inputs")
        reduced = set()
        for shape in shapes:
            if shape is None:
                continue
            if not -len(shape) <= self.axis < len(shape):
                raise ValueError(f"Concatenate: axis {self.axis} is out of range for an input of shape {shape} "
                                 f"(rank {len(shape)}, the batch axis included). Got inputs shapes: {shapes}")
            reduced.add(shape[:self.axis % len(shape)] + shape[self.axis % len(shape) + 1:])
        if len(reduced) > 1:
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the concat "
                             f"axis. Got inputs shapes: {shapes}")

    def call(self, inputs):
        if not _is_sequence(inputs):
            raise ValueError(_NOT_A_LIST)
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1 ``Concatenate.compute_mask``: an unmasked input counts as all ones, a mask of lower rank
        than its input gains a last axis; the masks are joined along ``axis`` and reduced over the last axis.
        The widened mask is broadcast to its input's shape, which changes nothing where Keras's concatenation
        works and lets a masked and an unmasked sequence join along time (where TensorFlow's fails on the
        mismatched last axes)."""
        masks = _given_masks(inputs, mask)
        if masks is None:
            return None
        full = []
        for x, m in zip(inputs, masks):
            if m is None:
                full.append(torch.ones_like(x, dtype=torch.bool))
            elif m.dim() < x.dim():
                widened = m.bool().unsqueeze(-1)
                full.append(widened.expand(x.shape) if widened.dim() == x.dim() else widened)
            else:
                full.append(m.bool())
        return torch.cat(full, dim=self.axis).all(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """``Dot(axes, normalize=False)([a, b])``: per sample, the dot product of ``a`` and ``b`` along
    ``axes`` (an int for both inputs or a pair, Keras axes counting the batch axis as 0), as Keras's
    ``K.batch_dot``. ``normalize=True`` L2-normalises both along those axes first (cosine proximity)."""

    input_layout = KERAS   # axes are Keras axes: see the module docstring

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, np.integer):
            axes = int(axes)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for `axes` - should be a list or an int.")
            if len(axes) != 2:
                raise ValueError("Invalid format for `axes` - should contain two elements.")
            if not all(isinstance(a, (int, np.integer)) for a in axes):
                raise ValueError('Invalid format for `axes` - list elements should be "int".')
            axes = type(axes)(int(a) for a in axes)
        self.axes = axes
        self.normalize = bool(normalize)

    def _axes_for(self, ndim1: int, ndim2: int) -> list[int]:
        """Non-negative axes for inputs of ranks ``ndim1``, ``ndim2``: a negative axis is taken modulo the
        rank, as Keras 2.3.1 ``Dot`` does (so -1 is the last axis)."""
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % n if a < 0 else a for a, n in zip(pair, (ndim1, ndim2))]

    def _check_shapes(self, shapes):
        if shapes is None or len(shapes) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs.")
        shape1, shape2 = shapes
        if shape1 is not None and shape2 is not None:
            if len(shape1) < 2 or len(shape2) < 2:   # K.batch_dot's checks, raised where the shapes are known
                raise ValueError(f"Can not do batch_dot on inputs with rank < 2. Received inputs with shapes "
                                 f"{shape1} and {shape2}.")
            axes = self._axes_for(len(shape1), len(shape2))
            if axes[0] >= len(shape1) or axes[1] >= len(shape2):
                raise ValueError(f"Dot: axes {self.axes} is out of range for inputs of shapes {shape1} and "
                                 f"{shape2} (the batch axis is axis 0).")
            if 0 in axes:
                raise ValueError("Can not perform batch_dot over axis 0.If your inputs are not batched, add a "
                                 "dummy batch dimension to your inputs using K.expand_dims(x, 0)")
            if shape1[axes[0]] != shape2[axes[1]]:
                raise ValueError(f"Dimension incompatibility {shape1[axes[0]]} != {shape2[axes[1]]}. "
                                 f"Layer shapes: {shape1}, {shape2}")

    def call(self, inputs):
        if not _is_sequence(inputs):
            raise ValueError(_NOT_A_LIST)
        if len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on exactly 2 inputs")
        x1, x2 = inputs
        if x1.shape[0] != x2.shape[0]:
            raise ValueError(f"Can not do batch_dot on inputs with different batch sizes. Received inputs with "
                             f"shapes {tuple(x1.shape)} and {tuple(x2.shape)}.")
        axes = self._axes_for(x1.dim(), x2.dim())
        if self.normalize:
            x1, x2 = l2_normalize(x1, axes[0]), l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# ---------------------------------------------------------------- kernels
def batch_dot(x: torch.Tensor, y: torch.Tensor, axes: list[int]) -> torch.Tensor:
    """Keras 2.3.1 ``K.batch_dot`` (TensorFlow backend) for non-negative ``axes`` other than 0: per sample,
    sum over ``x``'s axis ``axes[0]`` against ``y``'s axis ``axes[1]``. The result has ``x``'s axes less the
    summed one, then ``y``'s less the batch and the summed one; a result of rank 1 becomes ``(n, 1)``."""
    x = x.movedim(axes[0], -1)                       # (n, *x_rest, k)
    y = y.movedim(axes[1], 1)                        # (n, k, *y_rest)
    n, k = x.shape[0], x.shape[-1]
    x_rest, y_rest = x.shape[1:-1], y.shape[2:]
    # explicit sizes rather than -1, which cannot be inferred for the 0 rows of an empty batch
    out = torch.matmul(x.reshape(n, math.prod(x_rest), k), y.reshape(n, k, math.prod(y_rest)))
    out = out.reshape((n,) + x_rest + y_rest)
    return out.unsqueeze(-1) if out.dim() == 1 else out


def l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    """Keras 2.3.1 ``K.l2_normalize`` (``tf.nn.l2_normalize``): ``x / sqrt(max(sum(x**2, axis), 1e-12))``."""
    return x * torch.rsqrt(x.square().sum(dim=axis, keepdim=True).clamp_min(1e-12))


# ---------------------------------------------------------------- helpers
def _is_sequence(inputs) -> bool:
    return isinstance(inputs, (list, tuple))


def _keras_shapes(inputs):
    """The Keras shapes (batch dim None) a first eager call builds from: a list for a list of tensors, one
    shape for a lone tensor (which ``build`` then rejects with Keras's message)."""
    if isinstance(inputs, torch.Tensor):
        return (None,) + tuple(inputs.shape[1:])
    if not _is_sequence(inputs):
        raise TypeError(f"A merge layer should be called on a list of torch tensors; received "
                        f"{type(inputs).__name__}.")
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"A merge layer should be called on a list of torch tensors; input #{i} is a "
                            f"{type(x).__name__}.")
    return [(None,) + tuple(x.shape[1:]) for x in inputs]


def _shape_list(input_shape):
    """The list of Keras shapes a merge layer is built for, or None for a single shape (a lone tensor). Keras
    passes a list (an unknown shape is None); ``Layer._build_once`` passes it on as a tuple of tuples."""
    if isinstance(input_shape, list):
        return [None if s is None else tuple(s) for s in input_shape]
    if isinstance(input_shape, tuple) and all(isinstance(s, (tuple, list)) for s in input_shape):
        return [tuple(s) for s in input_shape]   # () too: no inputs at all
    return None


def _given_masks(inputs, mask):
    """Keras 2.3.1's checks on ``compute_mask``'s arguments; None when there is no mask at all."""
    if mask is None:
        return None
    if not _is_sequence(mask):
        raise ValueError("`mask` should be a list.")
    if not _is_sequence(inputs):
        raise ValueError("`inputs` should be a list.")
    if len(mask) != len(inputs):
        raise ValueError("The lists `inputs` and `mask` should have the same length.")
    if all(m is None for m in mask):
        return None
    return list(mask)


# ---------------------------------------------------------------- functional interface
def add(inputs, **kwargs) -> torch.Tensor:
    """``add([a, b, ...])``: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs) -> torch.Tensor:
    """``subtract([a, b])``: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs) -> torch.Tensor:
    """``multiply([a, b, ...])``: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs) -> torch.Tensor:
    """``average([a, b, ...])``: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs) -> torch.Tensor:
    """``maximum([a, b, ...])``: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs) -> torch.Tensor:
    """``minimum([a, b, ...])``: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs) -> torch.Tensor:
    """``concatenate([a, b, ...], axis=-1)``: ``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize: bool = False, **kwargs) -> torch.Tensor:
    """``dot([a, b], axes, normalize=False)``: ``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
