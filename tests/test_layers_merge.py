"""Merge layers (Keras 2.3.1 ``keras/layers/merge.py``), called eagerly on lists of Keras-layout tensors.

Expected values are NumPy computations; ``np_batch_dot`` is a per-sample ``np.tensordot``, independent of the
layer's reshape-and-matmul. Error messages are Keras 2.3.1's wording. Training a model that uses these layers
waits for the functional API.
"""
import json

import numpy as np
import pytest
import torch

from kerasish import layers, saving
from kerasish.layers.base import ANY, CHANNELS_FIRST, KERAS, to_layout
from kerasish.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                                   concatenate, dot, maximum, minimum, multiply, subtract)

RNG = np.random.RandomState(0)


def f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def rand(*shape):
    return RNG.randn(*shape).astype(np.float32)


def close(tensor, expected):
    np.testing.assert_allclose(tensor.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


NUMPY_MERGES = {
    Add: lambda xs: sum(xs[1:], xs[0]),
    Subtract: lambda xs: xs[0] - xs[1],
    Multiply: lambda xs: np.prod(np.stack(np.broadcast_arrays(*xs)), axis=0),
    Average: lambda xs: sum(xs[1:], xs[0]) / len(xs),
    Maximum: lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs)),
    Minimum: lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
}
FUNCTIONS = {Add: add, Subtract: subtract, Multiply: multiply, Average: average, Maximum: maximum, Minimum: minimum}
ELEMENTWISE = list(NUMPY_MERGES)


def np_batch_dot(x, y, axes):
    """Keras's batch_dot, sample by sample: tensordot of x[i] and y[i] over the axes (less the batch axis)."""
    out = np.stack([np.tensordot(xi, yi, axes=(axes[0] - 1, axes[1] - 1)) for xi, yi in zip(x, y)])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


def np_l2_normalize(x, axis):
    return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=axis, keepdims=True), 1e-12))


# ================================================================ elementwise merges
@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_elementwise_merge_of_two_inputs_matches_numpy(cls):
    a, b = rand(4, 3, 5), rand(4, 3, 5)
    out = cls()([f32(a), f32(b)])
    assert out.shape == (4, 3, 5)
    close(out, NUMPY_MERGES[cls]([a, b]))


@pytest.mark.parametrize("cls", [c for c in ELEMENTWISE if c is not Subtract])
def test_elementwise_merge_of_three_inputs_matches_numpy(cls):
    xs = [rand(4, 6) for _ in range(3)]
    close(cls()([f32(x) for x in xs]), NUMPY_MERGES[cls](xs))


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_functional_form_is_the_layer(cls):
    a, b = rand(2, 3), rand(2, 3)
    close(FUNCTIONS[cls]([f32(a), f32(b)]), NUMPY_MERGES[cls]([a, b]))


def test_functional_form_passes_layer_keyword_arguments():
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        add([f32(rand(2, 3)), f32(rand(2, 3))], units=3)


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_merge_leaves_its_inputs_unchanged(cls):
    a, b = f32(rand(3, 4)), f32(rand(3, 4))
    a0, b0 = a.clone(), b.clone()
    cls()([a, b])
    assert torch.equal(a, a0) and torch.equal(b, b0)


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_same_rank_inputs_broadcast_over_axes_of_size_1(cls):
    a, b = rand(2, 4, 1), rand(2, 1, 3)
    out = cls()([f32(a), f32(b)])
    assert out.shape == (2, 4, 3)
    close(out, NUMPY_MERGES[cls]([a, b]))


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_inputs_of_different_ranks_gain_axes_after_the_batch_axis(cls):
    # Keras 2.3.1 _Merge.call: (n, c) is expanded at axis 1 to (n, 1, 1, c), not NumPy's (1, 1, n, c)
    a, b = rand(2, 3), rand(2, 4, 5, 3)
    out = cls()([f32(a), f32(b)])
    assert out.shape == (2, 4, 5, 3)
    close(out, NUMPY_MERGES[cls]([a[:, None, None, :], b]))


def test_rank_1_input_broadcasts_against_every_feature():
    a, b, c = rand(3), rand(3, 4), rand(3, 2, 4)
    close(Add()([f32(a), f32(b), f32(c)]), a[:, None, None] + b[:, None, :] + c)


def test_eager_first_call_builds_from_keras_shapes_with_batch_none():
    layer = Add()
    assert not layer.built
    layer([f32(rand(2, 3)), f32(rand(2, 3))])
    assert layer.built
    out = layer([f32(rand(5, 3)), f32(rand(5, 3))])   # a new batch size: the batch dim was built as None
    assert out.shape == (5, 3)


def test_built_layer_keeps_working_on_meta_tensors_for_shape_inference():
    for layer, shapes, expected in [(Add(), [(2, 3), (2, 4, 3)], (2, 4, 3)),
                                    (Concatenate(axis=1), [(2, 3, 5), (2, 4, 5)], (2, 7, 5)),
                                    (Dot(axes=(1, 2)), [(2, 20), (2, 30, 20)], (2, 30))]:
        layer._build_once([(None,) + s[1:] for s in shapes])
        out = layer([torch.empty(s, device="meta") for s in shapes])
        assert out.shape == expected and out.device.type == "meta"


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_empty_batch_gives_an_empty_batch(cls):
    assert cls()([torch.zeros(0, 3), torch.zeros(0, 4, 3)]).shape == (0, 4, 3)


# ---------------------------------------------------------------- elementwise errors
@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_a_single_tensor_is_not_a_list_of_inputs(cls):
    with pytest.raises(ValueError, match=r"^A merge layer should be called on a list of inputs\.$"):
        cls()(f32(rand(2, 3)))


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_a_built_layer_called_on_one_tensor_raises_the_keras_message(cls):
    layer = cls()
    layer([f32(rand(2, 3)), f32(rand(2, 3))])
    with pytest.raises(ValueError, match=r"^A merge layer should be called on a list of inputs\.$"):
        layer(f32(rand(2, 3)))


@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_one_input_is_not_enough(cls):
    with pytest.raises(ValueError, match=r"^A merge layer should be called on a list of at least 2 inputs\. "
                                         r"Got 1 inputs\.$"):
        cls()([f32(rand(2, 3))])


def test_incompatible_shapes_raise_keras_broadcast_message():
    with pytest.raises(ValueError, match=r"^Operands could not be broadcast together with shapes \(4, 3\) \(5, 3\)$"):
        Add()([f32(rand(2, 4, 3)), f32(rand(2, 5, 3))])
    # the longer shape comes first, after the batch axis is dropped
    with pytest.raises(ValueError, match=r"with shapes \(4, 3\) \(2,\)$"):
        Multiply()([f32(rand(2, 2)), f32(rand(2, 4, 3))])


def test_build_with_known_different_batch_sizes_raises():
    with pytest.raises(ValueError, match=r"^Can not merge tensors with different batch sizes\. Got tensors with "
                                         r"shapes : \[\(2, 3\), \(4, 3\)\]$"):
        Add().build([(2, 3), (4, 3)])
    Add().build([(None, 3), (4, 3)])   # an unknown batch size merges with any


def test_eager_call_with_different_batch_sizes_raises():
    with pytest.raises(ValueError, match=r"^Can not merge tensors with different batch sizes\. Got tensors with "
                                         r"shapes : \[\(2, 3\), \(1, 3\)\]$"):
        Add()([f32(rand(2, 3)), f32(rand(1, 3))])


def test_a_failed_build_leaves_the_layer_unbuilt():
    layer = Add()
    with pytest.raises(ValueError):
        layer([f32(rand(2, 4)), f32(rand(2, 3))])
    assert not layer.built


def test_subtract_needs_exactly_two_inputs():
    message = r"^A `Subtract` layer should be called on exactly 2 inputs$"
    with pytest.raises(ValueError, match=message):
        Subtract()([f32(rand(2, 3))] * 3)
    layer = Subtract()
    with pytest.raises(ValueError, match=message):
        layer.build([(None, 3)] * 3)
    assert not layer.built
    # fewer than two: the generic merge message comes first, as in Keras
    with pytest.raises(ValueError, match="at least 2 inputs. Got 1 inputs."):
        subtract([f32(rand(2, 3))])


def test_inputs_that_are_not_tensors_are_named():
    with pytest.raises(TypeError, match="input #1 is a ndarray"):
        Add()([f32(rand(2, 3)), rand(2, 3)])


# ---------------------------------------------------------------- elementwise layouts
def test_elementwise_merges_work_in_any_layout_when_ranks_agree():
    a, b = rand(2, 4, 5, 1), rand(2, 4, 5, 3)
    layer = Add()
    layer._build_once([(None, 4, 5, 1), (None, 4, 5, 3)])
    assert layer.input_layout == ANY
    channels_first = layer([to_layout(f32(a), KERAS, CHANNELS_FIRST), to_layout(f32(b), KERAS, CHANNELS_FIRST)])
    close(to_layout(channels_first, CHANNELS_FIRST, KERAS), a + b)


def test_elementwise_merge_of_different_ranks_asks_for_the_keras_layout():
    layer = Maximum()
    layer._build_once([(None, 3), (None, 4, 5, 3)])
    assert layer.input_layout == KERAS
    assert Maximum().input_layout == ANY   # an instance setting; the class default is unchanged


# ================================================================ Concatenate
@pytest.mark.parametrize("axis", [-1, 1, 2, -2, 0])
def test_concatenate_on_each_axis_matches_numpy(axis):
    shapes = {-1: [(2, 3, 4), (2, 3, 1)], 2: [(2, 3, 4), (2, 3, 2)], 1: [(2, 3, 4), (2, 5, 4)],
              -2: [(2, 1, 4), (2, 2, 4)], 0: [(2, 3, 4), (1, 3, 4)]}[axis]
    xs = [rand(*s) for s in shapes] + [rand(*shapes[0])]
    out = Concatenate(axis=axis)([f32(x) for x in xs])
    close(out, np.concatenate(xs, axis=axis))


def test_concatenate_function_and_default_axis():
    a, b = rand(2, 3), rand(2, 5)
    out = concatenate([f32(a), f32(b)])
    assert out.shape == (2, 8)
    close(out, np.concatenate([a, b], axis=-1))
    close(concatenate([f32(a), f32(a)], axis=0), np.concatenate([a, a], axis=0))


def test_concatenate_takes_keras_axes_so_asks_for_the_keras_layout():
    assert Concatenate().input_layout == KERAS
    assert Concatenate.input_layout == KERAS


def test_concatenate_needs_a_list_of_at_least_two_inputs():
    message = r"^A `Concatenate` layer should be called on a list of at least 2 inputs$"
    with pytest.raises(ValueError, match=message):
        Concatenate()([f32(rand(2, 3))])
    with pytest.raises(ValueError, match=message):
        Concatenate()(f32(rand(2, 3)))


def test_concatenate_needs_matching_shapes_except_on_the_axis():
    with pytest.raises(ValueError, match=r"^A `Concatenate` layer requires inputs with matching shapes except for "
                                         r"the concat axis\. Got inputs shapes: \[\(None, 2, 3\), \(None, 4, 3\)\]$"):
        Concatenate(axis=-1)([f32(rand(2, 2, 3)), f32(rand(2, 4, 3))])
    with pytest.raises(ValueError, match="requires inputs with matching shapes"):
        Concatenate()([f32(rand(2, 3)), f32(rand(2, 4, 3))])


def test_concatenate_axis_out_of_range_is_named():
    with pytest.raises(ValueError, match="Concatenate: axis 3 is out of range for an input of shape"):
        Concatenate(axis=3)([f32(rand(2, 3)), f32(rand(2, 3))])
    with pytest.raises(TypeError, match="Concatenate: axis must be an integer"):
        Concatenate(axis="1")


def test_concatenate_empty_batch():
    assert Concatenate()([torch.zeros(0, 3), torch.zeros(0, 2)]).shape == (0, 5)


# ================================================================ Dot
@pytest.mark.parametrize("axes, shapes", [
    (1, [(3, 5), (3, 5)]),                          # (n, 1): one dot product per sample
    (-1, [(3, 4, 5), (3, 6, 5)]),                   # negative int: the last axis of each
    (2, [(3, 4, 5), (3, 6, 5)]),
    (1, [(3, 4, 5), (3, 4, 6)]),
    ((1, 2), [(3, 20), (3, 30, 20)]),               # Keras's batch_dot docstring shapes
    ((1, 2), [(3, 20, 1), (3, 30, 20)]),            # -> (3, 1, 30), its int_shape example
    ((-2, 1), [(3, 4, 5), (3, 4, 6)]),              # a negative axis in a pair
    ([2, -1], [(3, 4, 5), (3, 6, 5)]),
    ((2, 1), [(3, 4, 5), (3, 5)]),                  # (n, 4): the rank-2 side drops its summed axis
    ((1, 3), [(3, 2, 4, 5), (3, 6, 7, 2)]),         # rank 4: middle axes kept, in order
    (3, [(3, 2, 4, 5), (3, 6, 7, 5, 2)]),
])
def test_dot_matches_per_sample_tensordot(axes, shapes):
    x, y = rand(*shapes[0]), rand(*shapes[1])
    out = Dot(axes=axes)([f32(x), f32(y)])
    ndims = (x.ndim, y.ndim)
    positive = [a % n if a < 0 else a for a, n in zip([axes] * 2 if isinstance(axes, int) else axes, ndims)]
    expected = np_batch_dot(x, y, positive)
    assert tuple(out.shape) == expected.shape
    close(out, expected)


def test_dot_of_two_vectors_is_a_column_of_sums():
    x, y = rand(4, 3), rand(4, 3)
    out = dot([f32(x), f32(y)], axes=1)
    assert out.shape == (4, 1)
    close(out, np.sum(x * y, axis=1, keepdims=True))
    assert Dot(axes=(1, 2))([f32(rand(2, 20, 1)), f32(rand(2, 30, 20))]).shape == (2, 1, 30)


@pytest.mark.parametrize("axes, shapes", [(1, [(3, 5), (3, 5)]), (-1, [(3, 4, 5), (3, 6, 5)]),
                                          ((1, 2), [(3, 4, 5), (3, 6, 4)])])
def test_dot_normalize_is_cosine_proximity(axes, shapes):
    x, y = rand(*shapes[0]), rand(*shapes[1])
    positive = [a % 3 if a < 0 else a for a in ([axes] * 2 if isinstance(axes, int) else axes)]
    expected = np_batch_dot(np_l2_normalize(x, positive[0]), np_l2_normalize(y, positive[1]), positive)
    close(dot([f32(x), f32(y)], axes=axes, normalize=True), expected)


def test_dot_normalize_of_a_zero_vector_is_zero_not_nan():
    x = np.zeros((2, 3), np.float32)
    x[1] = [3.0, 4.0, 0.0]
    y = f32(rand(2, 3)).requires_grad_()
    xt = f32(x).requires_grad_()
    out = Dot(axes=1, normalize=True)([xt, y])
    out.sum().backward()
    assert out[0, 0].item() == 0.0
    assert torch.isfinite(xt.grad).all() and torch.isfinite(y.grad).all()


def test_dot_empty_batch():
    assert Dot(axes=-1)([torch.zeros(0, 4, 5), torch.zeros(0, 6, 5)]).shape == (0, 4, 6)
    assert Dot(axes=1)([torch.zeros(0, 5), torch.zeros(0, 5)]).shape == (0, 1)


def test_dot_takes_keras_axes_so_asks_for_the_keras_layout():
    assert Dot(axes=1).input_layout == KERAS


def test_dot_axes_argument_errors_are_keras_messages():
    with pytest.raises(TypeError, match=r"^Invalid type for `axes` - should be a list or an int\.$"):
        Dot(axes="1")
    with pytest.raises(ValueError, match=r"^Invalid format for `axes` - should contain two elements\.$"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r'^Invalid format for `axes` - list elements should be "int"\.$'):
        Dot(axes=(1, 2.0))
    assert Dot(axes=np.int64(1)).axes == 1


def test_dot_needs_exactly_two_inputs():
    message = r"^A `Dot` layer should be called on a list of 2 inputs\.$"
    with pytest.raises(ValueError, match=message):
        Dot(axes=1)([f32(rand(2, 3))] * 3)
    with pytest.raises(ValueError, match=message):
        Dot(axes=1)(f32(rand(2, 3)))
    layer = Dot(axes=1)
    layer([f32(rand(2, 3))] * 2)
    with pytest.raises(ValueError, match=r"^A `Dot` layer should be called on exactly 2 inputs$"):
        layer([f32(rand(2, 3))] * 3)


def test_dot_dimension_incompatibility():
    with pytest.raises(ValueError, match=r"^Dimension incompatibility 3 != 4\. Layer shapes: \(None, 3\), "
                                         r"\(None, 4\)$"):
        Dot(axes=1)([f32(rand(2, 3)), f32(rand(2, 4))])
    with pytest.raises(ValueError, match=r"^Dimension incompatibility 5 != 6\."):
        Dot(axes=(2, 1))([f32(rand(2, 4, 5)), f32(rand(2, 6, 5))])


def test_dot_batch_dot_errors():
    with pytest.raises(ValueError, match=r"^Can not perform batch_dot over axis 0\."):
        Dot(axes=0)([f32(rand(2, 3)), f32(rand(2, 3))])
    with pytest.raises(ValueError, match=r"^Can not do batch_dot on inputs with rank < 2\. Received inputs with "
                                         r"shapes \(None,\) and \(None, 3\)\.$"):
        Dot(axes=(-1, 1))([f32(rand(2)), f32(rand(2, 3))])
    with pytest.raises(ValueError, match=r"^Can not do batch_dot on inputs with different batch sizes\."):
        Dot(axes=1)([f32(rand(2, 3)), f32(rand(3, 3))])
    with pytest.raises(ValueError, match=r"^Dot: axes \(1, 3\) is out of range"):
        Dot(axes=(1, 3))([f32(rand(2, 3)), f32(rand(2, 3))])


# ================================================================ masks
@pytest.mark.parametrize("cls", ELEMENTWISE)
def test_merge_masks_combine_with_logical_and(cls):
    inputs = [f32(rand(2, 4, 3)) for _ in range(3)]
    m1 = torch.tensor([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=torch.bool)
    m2 = torch.tensor([[1, 0, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    layer = cls()
    assert layer.compute_mask(inputs) is None
    assert layer.compute_mask(inputs, [None, None, None]) is None
    assert torch.equal(layer.compute_mask(inputs, [m1, None, m2]), m1 & m2)
    assert torch.equal(layer.compute_mask(inputs, [None, m2, None]), m2)


def test_merge_mask_argument_errors():
    inputs = [f32(rand(2, 3))] * 2
    m = torch.ones(2, dtype=torch.bool)
    for layer in (Add(), Concatenate()):
        with pytest.raises(ValueError, match=r"^`mask` should be a list\.$"):
            layer.compute_mask(inputs, m)
        with pytest.raises(ValueError, match=r"^`inputs` should be a list\.$"):
            layer.compute_mask(inputs[0], [m, m])
        with pytest.raises(ValueError, match=r"^The lists `inputs` and `mask` should have the same length\.$"):
            layer.compute_mask(inputs, [m])


def test_concatenate_mask_on_the_feature_axis_is_the_inputs_masks_and():
    a, b = f32(rand(2, 4, 3)), f32(rand(2, 4, 5))
    m1 = torch.tensor([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=torch.bool)
    layer = Concatenate(axis=-1)
    assert layer.compute_mask([a, b]) is None
    assert layer.compute_mask([a, b], [None, None]) is None
    assert torch.equal(layer.compute_mask([a, b], [m1, None]), m1)   # the unmasked input counts as all ones


def test_concatenate_mask_on_the_time_axis_joins_the_masks():
    a, b = f32(rand(2, 4, 1)), f32(rand(2, 2, 1))
    m1 = torch.tensor([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=torch.bool)
    m2 = torch.tensor([[1, 0], [0, 0]], dtype=torch.bool)
    assert torch.equal(Concatenate(axis=1).compute_mask([a, b], [m1, m2]), torch.cat([m1, m2], dim=1))


def test_dot_has_no_mask():
    x = f32(rand(2, 4, 3))
    assert Dot(axes=-1).compute_mask([x, x], [torch.ones(2, 4, dtype=torch.bool)] * 2) is None


# ================================================================ names, configs, exports
def test_layer_names_follow_keras():
    assert Add().name == "add_1" and Add().name == "add_2"
    assert Concatenate().name == "concatenate_1"
    assert Dot(axes=1).name == "dot_1"


@pytest.mark.parametrize("make, extra", [
    (Add, {}), (Subtract, {}), (Multiply, {}), (Average, {}), (Maximum, {}), (Minimum, {}),
    (lambda: Concatenate(axis=1), {"axis": 1}),
    (lambda: Dot(axes=(1, 2), normalize=True), {"axes": (1, 2), "normalize": True}),
])
def test_get_config_has_keras_keys_and_round_trips(make, extra):
    layer = make()
    config = layer.get_config()
    assert config == {"name": layer.name, "trainable": True, "dtype": "float32", **extra}
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    through_json = saving.deserialize_layer(json.loads(json.dumps(saving.layer_config(layer))))
    assert type(through_json) is type(layer)
    assert through_json.name == layer.name
    if extra.get("axes"):
        assert list(through_json.axes) == list(extra["axes"])


def test_dot_config_keeps_an_int_axes_and_the_default_normalize():
    config = Dot(axes=-1).get_config()
    assert config["axes"] == -1 and config["normalize"] is False


def test_merge_layers_are_exported_and_found_by_class_name():
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"):
        assert saving._builtin_layer_class(name) is getattr(layers, name)
    for name in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"):
        assert callable(getattr(layers, name))
        assert saving._builtin_layer_class(name) is None
