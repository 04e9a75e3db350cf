"""``Input`` and ``InputLayer``: where a graph starts (Keras 2.3.1 ``engine/input_layer.py``)."""
from __future__ import annotations

from kerasish import backend
from kerasish.layers.base import ANY, Layer
from kerasish.layers.keras_tensor import symbolic_input
from kerasish.layers.node import Node


class InputLayer(Layer):
    """Declares a model input of ``batch_input_shape``; as a layer it passes its tensor through.

    Creating one makes its symbolic output (``layer.output``, the tensor ``Input`` returns): node 0, with no
    inputs.
    """

    input_layout = ANY
    supports_masking = True  # Keras 2.3.1

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None, input_tensor=None,
                 sparse=False, name=None, **kwargs):
        if name is None:
            name = f"input_{backend.get_uid('input')}"
        if sparse:
            raise ValueError(f"InputLayer {name}: sparse inputs are a TensorFlow feature with no kerasish "
                             "equivalent; feed dense arrays (e.g. x.toarray() of a scipy matrix).")
        if input_tensor is not None:
            raise ValueError(f"InputLayer {name}: input_tensor (feeding an existing backend tensor) has no kerasish "
                             "equivalent; pass a Keras tensor made by Input(...) to the next layer instead.")
        super().__init__(input_shape=input_shape, batch_size=batch_size, batch_input_shape=batch_input_shape,
                         dtype=dtype, name=name, **kwargs)
        if self.batch_input_shape is None:
            raise ValueError("InputLayer: pass input_shape=(...) or batch_input_shape=(...).")
        self.sparse = False
        self.built = True
        tensor = symbolic_input(self.batch_input_shape, self.dtype)
        Node(self, (), {}, tensor)

    def call(self, x):
        return x

    def get_config(self):
        return {"batch_input_shape": self.batch_input_shape, "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None, **kwargs):  # noqa: N802
    """A symbolic input: ``x = Input(shape=(784,))`` then ``y = Dense(10)(x)`` and ``Model(x, y)``.

    ``shape`` leaves out the batch dimension; ``batch_shape`` includes it. ``dtype`` defaults to floatx
    (``'int32'`` for an Embedding's indices). Keras 2.3.1 names: ``batch_shape`` may also be given as
    ``batch_input_shape``.
    """
    if "batch_input_shape" in kwargs and batch_shape is None:
        batch_shape = kwargs.pop("batch_input_shape")
    if kwargs:
        raise TypeError(f"Input: unexpected keyword argument(s) {sorted(kwargs)}.")
    if shape is None and batch_shape is None and tensor is None:
        # Keras 2.3.1 wording
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` argument. Note that `shape` "
                         "does not include the batch dimension.")
    if shape is not None and batch_shape is None:
        batch_shape = (None,) + tuple(shape if isinstance(shape, (list, tuple)) else (shape,))
    layer = InputLayer(batch_input_shape=batch_shape, name=name, dtype=dtype, sparse=sparse, input_tensor=tensor)
    return layer.output
