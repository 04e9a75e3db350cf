"""``Embedding``: integer indices -> rows of a learned matrix (Keras 2.3.1 ``layers/embeddings.py``).

The matrix ``embeddings`` ``(input_dim, output_dim)`` has the same layout in Keras and torch, so
``get_weights``/``set_weights`` copy it as it is and the lookup is ``F.embedding``.

Indices: any integer dtype; float inputs holding integers are cast (Keras 2.3.1 casts every non-int32 input
to int32, truncating floats). The layer declares ``input_dtype = 'int32'``, so a ``Sequential`` whose first
layer it is feeds the token arrays as integers (Keras 2.3.1 feeds them as float32 and casts inside, which is
exact only below 2**24). An index outside ``[0, input_dim)`` raises TensorFlow's error on the CPU; on other
devices the check would read a value back to the host at every step, so it is left to the device kernel.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import initializers
from kerasish.layers.base import Layer, penalties_config, serialize_keras_object
from kerasish.utils.validation import check_number

# F.embedding takes these index dtypes as they are; other integer (and float, bool) indices are cast.
_INDEX_DTYPES = (torch.int32, torch.int64)


class Embedding(Layer):
    """``Embedding(input_dim, output_dim, embeddings_initializer='uniform', embeddings_regularizer=None,
    activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None)``.

    Inputs ``(batch, ...)`` of indices, outputs ``(batch, ..., output_dim)``. With ``mask_zero=True`` the
    output mask is ``inputs != 0`` (index 0 is padding, so the vocabulary needs ``input_dim = size + 1``).
    """

    input_dtype = "int32"  # the dtype a Sequential whose first layer this is feeds its input in

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None,
                 **kwargs):
        check_number(input_dim, "input_dim", "Embedding", low=1, integer=True)
        check_number(output_dim, "output_dim", "Embedding", low=0, integer=True)
        if "input_shape" not in kwargs:
            # Keras 2.3.1: the input shape is always declared, (input_length,) or (None,)
            if isinstance(input_length, (list, tuple)):
                kwargs["input_shape"] = tuple(input_length)
            else:
                kwargs["input_shape"] = (input_length,) if input_length else (None,)
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.set_weight_penalties(embeddings=(embeddings_regularizer, embeddings_constraint),
                                  activity=activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length

    def build(self, input_shape):
        self._check_input_length(tuple(input_shape))
        self.embeddings = nn.Parameter(self.initial_value(self.embeddings_initializer,
                                                          (self.input_dim, self.output_dim)))

    def _check_input_length(self, input_shape: tuple) -> None:
        """Keras 2.3.1 ``compute_output_shape``: ``input_length`` (an int, or a tuple for inputs of rank 3 and
        more) must agree with every known dimension of the input after the batch one."""
        if self.input_length is None:
            return
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) else [self.input_length]
        dims = input_shape[1:]
        if len(lengths) != len(dims) or any(a is not None and b is not None and a != b
                                            for a, b in zip(lengths, dims)):
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape {input_shape}')

    def call(self, inputs):
        if inputs.dtype not in _INDEX_DTYPES:
            inputs = inputs.to(torch.int64)  # floats truncate toward zero, as TensorFlow's cast
        if inputs.device.type == "cpu" and inputs.numel():
            self._check_indices(inputs)
        return F.embedding(inputs, self.embeddings)

    def _check_indices(self, indices: torch.Tensor) -> None:
        low, high = torch.aminmax(indices)
        if low < 0 or high >= self.input_dim:
            bad = ((indices < 0) | (indices >= self.input_dim)).nonzero()[0].tolist()
            value = int(indices[tuple(bad)])
            # TensorFlow's gather message (InvalidArgumentError), with the remedy
            raise IndexError(f"Embedding {self.name}: indices[{','.join(map(str, bad))}] = {value} is not in "
                             f"[0, {self.input_dim}). input_dim must be the largest index + 1 (the vocabulary "
                             "size, plus 1 when index 0 is padding).")

    def compute_mask(self, inputs, mask=None):
        """Keras 2.3.1: ``inputs != 0`` with ``mask_zero``, else None (an incoming mask is dropped)."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        """Keras 2.3.1: ``input_shape + (output_dim,)``, with ``input_length`` filling unknown dimensions."""
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        self._check_input_length(input_shape)
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) else [self.input_length]
        dims = tuple(d if length is None else length for length, d in zip(lengths, input_shape[1:]))
        return (input_shape[0],) + dims + (self.output_dim,)

    def get_config(self):
        penalties = penalties_config(self, ("embeddings",))
        config = {"input_dim": self.input_dim, "output_dim": self.output_dim,
                  "embeddings_initializer": serialize_keras_object(self.embeddings_initializer),
                  **{key: penalties[key] for key in ("embeddings_regularizer", "activity_regularizer",
                                                     "embeddings_constraint")},
                  "mask_zero": self.mask_zero, "input_length": self.input_length}
        return {**super().get_config(), **config}


__all__ = ["Embedding"]
