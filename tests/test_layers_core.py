"""Core layers (Keras 2.3.1 ``keras/layers/core.py``), the Layer base and the Keras <-> torch weight layouts.

Layers are built with ``layer._build_once(keras_shape)`` and called on Keras-layout tensors; expected values
are NumPy computations on the same Keras-layout weights.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import backend, constraints, regularizers
from kerasish.layers import weight_layouts
from kerasish.layers.base import CHANNELS_FIRST, KERAS, normalize_tuple, to_layout, to_snake_case
from kerasish.layers.input_layer import InputLayer
from kerasish.layers.core import (Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape,
                                  TorchModule)

RNG = np.random.RandomState(0)


def f32(a):
    return torch.tensor(np.asarray(a), dtype=torch.float32)


def built(layer, input_shape):
    layer._build_once(input_shape)
    return layer


def dense_with(w, b=None, **kwargs):
    layer = built(Dense(w.shape[1], use_bias=b is not None, **kwargs), (None, w.shape[0]))
    layer.set_weights([w] if b is None else [w, b])
    return layer


# ================================================================ weight layouts
def test_dense_kernel_layout_is_a_transpose():
    keras = np.arange(12.0).reshape(4, 3)   # (in, out)
    torch_w = weight_layouts.DENSE_KERNEL.from_keras(torch.tensor(keras)).numpy()
    assert torch_w.shape == (3, 4)
    assert torch_w[2, 1] == keras[1, 2]
    np.testing.assert_array_equal(weight_layouts.DENSE_KERNEL.to_keras(torch.tensor(torch_w)).numpy(), keras)
    assert weight_layouts.DENSE_KERNEL.keras_shape((3, 4)) == (4, 3)


def test_conv2d_kernel_keras_khkwio_is_torch_oikhkw():
    keras = RNG.randn(2, 3, 4, 5)   # (kh, kw, in, out)
    torch_w = weight_layouts.CONV_KERNEL.from_keras(torch.tensor(keras)).numpy()
    assert torch_w.shape == (5, 4, 2, 3)
    for kh, kw, i, o in [(0, 0, 0, 0), (1, 2, 3, 4), (1, 0, 2, 3), (0, 2, 1, 0)]:
        assert torch_w[o, i, kh, kw] == keras[kh, kw, i, o]
    np.testing.assert_array_equal(torch_w, np.transpose(keras, (3, 2, 0, 1)))
    np.testing.assert_array_equal(weight_layouts.CONV_KERNEL.to_keras(torch.tensor(torch_w)).numpy(), keras)
    assert weight_layouts.CONV_KERNEL.keras_shape((5, 4, 2, 3)) == (2, 3, 4, 5)


def test_conv1d_kernel_keras_kio_is_torch_oik():
    keras = RNG.randn(3, 4, 5)   # (k, in, out)
    torch_w = weight_layouts.CONV_KERNEL.from_keras(torch.tensor(keras)).numpy()
    assert torch_w.shape == (5, 4, 3)
    assert torch_w[4, 1, 2] == keras[2, 1, 4]
    np.testing.assert_array_equal(weight_layouts.CONV_KERNEL.to_keras(torch.tensor(torch_w)).numpy(), keras)


def test_conv2d_kernel_layout_computes_keras_cross_correlation():
    x = RNG.randn(2, 5, 6, 3)        # Keras NHWC
    kernel = RNG.randn(2, 3, 3, 4)   # Keras (kh, kw, in, out)
    # 'valid' cross-correlation written directly in Keras layouts
    expected = np.zeros((2, 4, 4, 4))
    for y in range(4):
        for xx in range(4):
            patch = x[:, y:y + 2, xx:xx + 3, :]
            expected[:, y, xx, :] = np.einsum("nhwi,hwio->no", patch, kernel)
    weight = weight_layouts.CONV_KERNEL.from_keras(torch.tensor(kernel))
    out = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), weight).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_depthwise_kernel_channel_i_multiplier_j_is_torch_output_i_times_m_plus_j():
    m = 2
    layout = weight_layouts.DepthwiseKernel(m)
    keras = RNG.randn(2, 3, 4, m)   # (kh, kw, in, multiplier)
    torch_w = layout.from_keras(torch.tensor(keras)).numpy()
    assert torch_w.shape == (4 * m, 1, 2, 3)
    for kh, kw, i, j in [(0, 0, 0, 0), (1, 2, 3, 1), (0, 1, 2, 1), (1, 0, 1, 0)]:
        assert torch_w[i * m + j, 0, kh, kw] == keras[kh, kw, i, j]
    np.testing.assert_array_equal(layout.to_keras(torch.tensor(torch_w)).numpy(), keras)
    assert layout.keras_shape((8, 1, 2, 3)) == (2, 3, 4, 2)


def test_depthwise_kernel_layout_computes_keras_depthwise_conv():
    m, c = 2, 3
    x = RNG.randn(1, 4, 4, c)
    kernel = RNG.randn(3, 3, c, m)
    expected = np.zeros((1, 2, 2, c * m))   # TF: output channel k * multiplier + q
    for y in range(2):
        for xx in range(2):
            patch = x[:, y:y + 3, xx:xx + 3, :]
            expected[:, y, xx, :] = np.einsum("nhwi,hwij->nij", patch, kernel).reshape(1, c * m)
    weight = weight_layouts.DepthwiseKernel(m).from_keras(torch.tensor(kernel))
    out = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), weight, groups=c).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-10)


# ================================================================ base helpers
@pytest.mark.parametrize("cls_name,expected", [
    ("Dense", "dense"), ("MaxPooling2D", "max_pooling2d"), ("Conv2DTranspose", "conv2d_transpose"),
    ("BatchNormalization", "batch_normalization"), ("GlobalAveragePooling2D", "global_average_pooling2d"),
    ("LeakyReLU", "leaky_re_lu"),
])
def test_to_snake_case_gives_keras_default_layer_prefixes(cls_name, expected):
    assert to_snake_case(cls_name) == expected


def test_normalize_tuple():
    assert normalize_tuple(3, 2, "kernel_size") == (3, 3)
    assert normalize_tuple([1, 2], 2, "strides") == (1, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        normalize_tuple((1, 2, 3), 2, "kernel_size")


def test_to_layout_moves_the_channel_axis_for_rank_3_and_up_only():
    x = torch.tensor(RNG.randn(2, 3, 4, 5))
    cf = to_layout(x, KERAS, CHANNELS_FIRST)
    np.testing.assert_array_equal(cf.numpy(), np.moveaxis(x.numpy(), -1, 1))
    np.testing.assert_array_equal(to_layout(cf, CHANNELS_FIRST, KERAS).numpy(), x.numpy())
    flat = torch.zeros(2, 3)
    assert to_layout(flat, KERAS, CHANNELS_FIRST) is flat


# ================================================================ Dense
def test_dense_computes_x_at_w_plus_b_with_keras_layout_weights():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    x = RNG.randn(5, 4)
    out = dense_with(w, b)(f32(x)).detach().numpy()
    np.testing.assert_allclose(out, x @ w + b, rtol=1e-5, atol=1e-6)


def test_dense_get_weights_are_kernel_in_out_then_bias():
    layer = built(Dense(3), (None, 4))
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(4, 3), (3,)]
    w, b = RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")
    layer.set_weights([w, b])
    got = layer.get_weights()
    np.testing.assert_array_equal(got[0], w)
    np.testing.assert_array_equal(got[1], b)


def test_dense_default_bias_is_zero_and_kernel_is_glorot_uniform_bounded():
    torch.manual_seed(0)
    kernel, bias = built(Dense(30), (None, 20)).get_weights()
    np.testing.assert_array_equal(bias, np.zeros(30))
    assert np.abs(kernel).max() <= np.sqrt(6.0 / (20 + 30))


def test_dense_without_bias_has_only_a_kernel():
    w = RNG.randn(4, 2)
    layer = dense_with(w)
    assert [a.shape for a in layer.get_weights()] == [(4, 2)]
    x = RNG.randn(3, 4)
    np.testing.assert_allclose(layer(f32(x)).detach().numpy(), x @ w, rtol=1e-5, atol=1e-6)


def test_dense_on_rank_3_input_acts_on_the_last_axis():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    x = RNG.randn(2, 5, 4)
    out = dense_with(w, b)(f32(x)).detach().numpy()
    assert out.shape == (2, 5, 3)
    np.testing.assert_allclose(out, np.einsum("nti,io->nto", x, w) + b, rtol=1e-5, atol=1e-6)


def test_dense_activation_is_applied_after_the_affine_map():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    x = RNG.randn(6, 4)
    z = x @ w + b
    np.testing.assert_allclose(dense_with(w, b, activation="relu")(f32(x)).detach().numpy(), np.maximum(z, 0),
                               rtol=1e-5, atol=1e-6)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(dense_with(w, b, activation="softmax")(f32(x)).detach().numpy(),
                               e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_layer_names_count_per_class_from_one():
    backend.clear_session()
    assert Dense(2).name == "dense_1"
    assert Dense(2, name="head").name == "head"   # an explicit name does not use a number
    assert Dense(2).name == "dense_2"
    assert Activation("relu").name == "activation_1"
    assert Flatten().name == "flatten_1"


def test_dense_input_dim_and_input_shape_declare_the_batch_input_shape():
    assert Dense(2, input_dim=4).batch_input_shape == (None, 4)
    assert Dense(2, input_shape=(4,)).batch_input_shape == (None, 4)
    assert Dense(2, batch_input_shape=(8, 4)).batch_input_shape == (8, 4)
    assert Dense(2).batch_input_shape is None


def test_unknown_keyword_argument_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="kernal_initializer"):
        Dense(2, kernal_initializer="zeros")


@pytest.mark.parametrize("units", [0, -3, 2.5])
def test_dense_rejects_non_positive_or_non_integer_units(units):
    with pytest.raises(ValueError, match="units"):
        Dense(units)


def test_dense_weights_argument_sets_initial_weights_at_build():
    w, b = RNG.randn(4, 3).astype("float32"), RNG.randn(3).astype("float32")
    layer = built(Dense(3, weights=[w, b]), (None, 4))
    np.testing.assert_array_equal(layer.get_weights()[0], w)
    np.testing.assert_array_equal(layer.get_weights()[1], b)


def test_set_weights_with_a_wrong_shape_raises_and_changes_nothing():
    layer = built(Dense(3), (None, 4))
    before = layer.get_weights()
    # first array fine, second wrong: the kernel must not have been written either
    with pytest.raises(ValueError, match=r"\(3,\)"):
        layer.set_weights([np.ones((4, 3)), np.ones(4)])
    # the torch layout (3, 4) is not accepted in place of the Keras layout (4, 3)
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        layer.set_weights([np.ones((3, 4)), np.ones(3)])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_set_weights_with_a_wrong_count_raises_and_changes_nothing():
    layer = built(Dense(3), (None, 4))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="2"):
        layer.set_weights([np.ones((4, 3))])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_count_params_after_build_and_error_before():
    layer = Dense(3)
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    assert built(layer, (None, 4)).count_params() == 4 * 3 + 3


# ================================================================ trainable, regularizers, constraints
def test_trainable_false_freezes_params_and_lists_them_as_non_trainable():
    layer = built(Dense(3, trainable=False), (None, 4))
    assert all(not p.requires_grad for p in layer.parameters())
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2


def test_setting_trainable_after_build_toggles_requires_grad():
    layer = built(Dense(3), (None, 4))
    assert len(layer.trainable_weights) == 2
    layer.trainable = False
    assert all(not p.requires_grad for p in layer.parameters())
    assert len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert all(p.requires_grad for p in layer.parameters())


def test_kernel_regularizer_penalty_is_computed_on_the_keras_kernel():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    layer = dense_with(w, b, kernel_regularizer=regularizers.l2(0.1))
    losses = layer.regularization_losses()
    assert len(losses) == 1
    assert losses[0].item() == pytest.approx(0.1 * np.square(w).sum(), rel=1e-5)


def test_kernel_and_bias_regularizers_by_name_use_keras_default_factor():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    layer = dense_with(w, b, kernel_regularizer="l1", bias_regularizer="l2")
    total = sum(loss.item() for loss in layer.regularization_losses())
    assert total == pytest.approx(0.01 * np.abs(w).sum() + 0.01 * np.square(b).sum(), rel=1e-5)


def test_activity_regularizer_penalises_the_training_output_once():
    w, b = RNG.randn(4, 3), RNG.randn(3)
    x = RNG.randn(5, 4)
    layer = dense_with(w, b, activity_regularizer=regularizers.l1(0.1))
    layer.train()
    layer(f32(x))
    losses = layer.regularization_losses()
    assert len(losses) == 1
    assert losses[0].item() == pytest.approx(0.1 * np.abs(x @ w + b).sum(), rel=1e-5)
    assert layer.regularization_losses() == []


def test_apply_constraints_projects_the_keras_kernel_per_unit():
    w = np.array([[3.0, 0.1], [4.0, 0.2]])   # Keras (in=2, out=2): unit norms 5 and ~0.22
    layer = dense_with(w, np.array([-1.0, 2.0]), kernel_constraint=constraints.max_norm(1.0),
                       bias_constraint="non_neg")
    layer.apply_constraints()
    kernel, bias = layer.get_weights()
    norms = np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(kernel, w * np.clip(norms, 0, 1.0) / (1e-7 + norms), rtol=1e-5)
    np.testing.assert_array_equal(bias, [0.0, 2.0])


# ================================================================ other core layers
def test_activation_layer_applies_the_named_function():
    x = RNG.randn(3, 4)
    np.testing.assert_allclose(Activation("tanh")(f32(x)).numpy(), np.tanh(x), rtol=1e-6)


def test_activation_softmax_normalises_the_last_axis_of_a_rank_3_input():
    x = RNG.randn(2, 3, 4)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(Activation("softmax")(f32(x)).numpy(), e / e.sum(axis=-1, keepdims=True),
                               rtol=1e-5, atol=1e-7)


def test_dropout_is_identity_in_eval_mode():
    layer = Dropout(0.5).eval()
    x = f32(RNG.randn(4, 5))
    torch.testing.assert_close(layer(x), x)


def test_dropout_in_training_scales_kept_values_and_drops_about_rate():
    torch.manual_seed(0)
    rate = 0.3
    out = Dropout(rate).train()(torch.ones(400, 250)).numpy()
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1.0 / (1.0 - rate), rtol=1e-6)
    assert np.mean(out == 0) == pytest.approx(rate, abs=0.01)


def test_dropout_noise_shape_shares_the_mask_along_none_one_axes():
    torch.manual_seed(0)
    out = Dropout(0.5, noise_shape=(None, 1, 8)).train()(torch.ones(4, 6, 8)).numpy()
    for t in range(1, 6):
        np.testing.assert_array_equal(out[:, t, :], out[:, 0, :])
    assert set(np.unique(out)) <= {0.0, 2.0}


def masks(layer, shape=(6, 10), calls=3):
    """The keep masks (0/1) of ``calls`` training calls of a Dropout layer on ones."""
    layer.train()
    return [(layer(torch.ones(shape)) != 0).numpy() for _ in range(calls)]


def test_dropout_layers_with_the_same_seed_draw_the_same_masks():
    first, second = masks(Dropout(0.5, seed=3)), masks(Dropout(0.5, seed=3))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # a sequence of masks, not one mask again and again
    other = masks(Dropout(0.5, seed=4))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other))


def test_seeded_dropout_keeps_to_its_own_generator():
    torch.manual_seed(1)
    layer = Dropout(0.5, seed=3).train()
    before = torch.get_rng_state()
    first = masks(layer, calls=1)[0]
    torch.testing.assert_close(torch.get_rng_state(), before)  # the global generator is not advanced
    torch.manual_seed(99)
    torch.rand(7)
    expected = torch.Generator().manual_seed(3)  # the mask is Bernoulli(1 - rate) from a generator seeded 3
    keep = torch.empty(6, 10).bernoulli_(0.5, generator=expected)
    np.testing.assert_array_equal(first, keep.numpy() != 0)
    np.testing.assert_array_equal(masks(Dropout(0.5, seed=3), calls=1)[0], first)


def test_unseeded_dropout_draws_from_the_global_generator():
    torch.manual_seed(5)
    first = masks(Dropout(0.5), calls=2)
    torch.manual_seed(5)
    again = masks(Dropout(0.5), calls=2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    torch.manual_seed(6)
    assert not np.array_equal(masks(Dropout(0.5), calls=1)[0], first[0])


def test_seeded_dropout_with_noise_shape_shares_its_seeded_mask():
    first = Dropout(0.5, noise_shape=(None, 1, 8), seed=2).train()(torch.ones(4, 6, 8)).numpy()
    second = Dropout(0.5, noise_shape=(None, 1, 8), seed=2).train()(torch.ones(4, 6, 8)).numpy()
    np.testing.assert_array_equal(first, second)
    for t in range(1, 6):
        np.testing.assert_array_equal(first[:, t, :], first[:, 0, :])


def test_seeded_dropout_masks_are_drawn_in_the_keras_layout():
    # so that the masks depend on the seed and the Keras shape, not on whether a conv comes before
    assert Dropout(0.5, seed=1).input_layout == KERAS and Dropout(0.5).input_layout != KERAS


def test_seeded_dropout_from_its_config_starts_the_same_sequence():
    layer = Dropout(0.25, seed=11)
    assert layer.get_config()["seed"] == 11
    for a, b in zip(masks(layer), masks(Dropout.from_config(layer.get_config()))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [1.5, "3", True])
def test_dropout_seed_must_be_an_integer(seed):
    with pytest.raises(TypeError, match="Dropout: seed must be an integer or None"):
        Dropout(0.5, seed=seed)


def test_flatten_of_channels_last_data_is_numpy_c_order():
    x = RNG.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(Flatten()(f32(x)).numpy(), f32(x).numpy().reshape(2, -1))


def test_flatten_channels_first_flattens_in_channels_last_order():
    # Keras permutes (n, c, h, w) to (n, h, w, c) before flattening
    x = RNG.randn(2, 5, 3, 4)
    expected = np.transpose(f32(x).numpy(), (0, 2, 3, 1)).reshape(2, -1)
    np.testing.assert_array_equal(Flatten(data_format="channels_first")(f32(x)).numpy(), expected)


def test_flatten_data_format_defaults_to_image_data_format():
    # Keras 2.3.1 Flatten: self.data_format = K.normalize_data_format(data_format)
    saved = backend.image_data_format()
    try:
        backend.set_image_data_format("channels_first")
        layer = Flatten()
    finally:
        backend.set_image_data_format(saved)
    x = RNG.randn(2, 5, 3, 4)
    expected = np.transpose(f32(x).numpy(), (0, 2, 3, 1)).reshape(2, -1)
    np.testing.assert_array_equal(layer(f32(x)).numpy(), expected)


def test_flatten_leaves_rank_2_unchanged():
    x = f32(RNG.randn(3, 4))
    torch.testing.assert_close(Flatten(data_format="channels_first")(x), x)


def test_reshape_infers_the_minus_one_dimension():
    x = RNG.randn(2, 12)
    layer = built(Reshape((-1, 2)), (None, 12))
    np.testing.assert_array_equal(layer(f32(x)).numpy(), f32(x).numpy().reshape(2, 6, 2))
    layer = built(Reshape((3, 4)), (None, 12))
    np.testing.assert_array_equal(layer(f32(x)).numpy(), f32(x).numpy().reshape(2, 3, 4))


@pytest.mark.parametrize("target", [(5, -1), (3, 5)])
def test_reshape_to_an_incompatible_size_raises_at_build(target):
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        built(Reshape(target), (None, 12))


def test_reshape_with_two_unknown_dimensions_raises():
    with pytest.raises(ValueError, match="one unknown dimension"):
        Reshape((-1, -1))


def test_reshape_builds_on_an_input_with_unknown_dimensions():
    # Keras skips the size check when the input shape is partly unknown (variable-length sequences)
    layer = built(Reshape((-1, 2)), (None, None, 4))
    assert layer(torch.zeros(2, 3, 4)).shape == (2, 6, 2)


def test_permute_uses_one_indexed_dims_excluding_batch():
    x = RNG.randn(2, 3, 4)
    np.testing.assert_array_equal(Permute((2, 1))(f32(x)).numpy(), np.transpose(f32(x).numpy(), (0, 2, 1)))
    y = RNG.randn(2, 3, 4, 5)
    np.testing.assert_array_equal(Permute((3, 1, 2))(f32(y)).numpy(), np.transpose(f32(y).numpy(), (0, 3, 1, 2)))


@pytest.mark.parametrize("dims", [(0, 1), (1, 1), (1, 3)])
def test_permute_rejects_dims_that_are_not_a_permutation_of_1_to_n(dims):
    with pytest.raises(ValueError, match="dims"):
        Permute(dims)


def test_input_layer_is_named_input_n_and_passes_through():
    backend.clear_session()
    layer = InputLayer(input_shape=(4,))
    assert layer.name == "input_1"
    assert layer.batch_input_shape == (None, 4)
    x = f32(RNG.randn(2, 4))
    assert layer(x) is x
    assert InputLayer(batch_input_shape=(8, 3)).name == "input_2"


def test_input_layer_without_a_shape_raises():
    with pytest.raises(ValueError, match="input_shape"):
        InputLayer()


def test_lambda_calls_the_function_with_its_arguments():
    x = RNG.randn(2, 3)
    layer = Lambda(lambda t, scale, shift: t * scale + shift, arguments={"scale": 3.0, "shift": 1.0})
    np.testing.assert_allclose(layer(f32(x)).numpy(), f32(x).numpy() * 3.0 + 1.0, rtol=1e-6)


def test_lambda_rejects_a_non_callable():
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)


def test_lambda_compute_mask_returns_the_mask_as_keras_2_3_1():
    x = f32(RNG.randn(2, 3))
    assert Lambda(lambda t: t).compute_mask(x) is None and not Lambda(lambda t: t).supports_masking
    fixed = torch.tensor([True, False])
    layer = Lambda(lambda t: t, mask=fixed)
    assert layer.supports_masking and layer.compute_mask(x, mask=torch.tensor([True, True])) is fixed
    seen = []

    def mask_fn(inputs, mask):
        seen.append((inputs, mask))
        return inputs[:, 0] > 0

    incoming = torch.tensor([False, True])
    out = Lambda(lambda t: t, mask=mask_fn).compute_mask(x, incoming)
    assert seen[0][0] is x and seen[0][1] is incoming  # called with (inputs, mask)
    torch.testing.assert_close(out, x[:, 0] > 0)


def test_lambda_config_records_the_mask():
    def not_zero(inputs, mask=None):
        return inputs != 0

    assert Lambda(lambda t: t).get_config()["mask"] is None
    config = Lambda(lambda t: t, mask=not_zero).get_config()
    assert (config["mask"], config["mask_type"]) == ("not_zero", "function")
    config = Lambda(lambda t: t, mask=torch.tensor([[True, False]])).get_config()
    assert (config["mask"], config["mask_type"]) == ([[True, False]], "raw")


def test_lambda_passes_mask_none_to_a_function_that_takes_a_mask():
    received = []

    def f(t, mask=None, scale=1.0):
        received.append(mask)
        return t * scale

    x = f32(RNG.randn(2, 3))
    torch.testing.assert_close(Lambda(f, arguments={"scale": 2.0})(x), x * 2.0)
    assert received == [None]


def test_lambda_compute_output_shape_follows_keras_2_3_1():
    assert Lambda(lambda t: t[:, :2], output_shape=(2,)).compute_output_shape((None, 5)) == (None, 2)
    assert Lambda(lambda t: t, output_shape=[4, 3]).compute_output_shape((8, 4, 3)) == (8, 4, 3)
    halve = Lambda(lambda t: t[:, ::2], output_shape=lambda shape: (shape[0], shape[1] // 2))
    assert halve.compute_output_shape((None, 6)) == (None, 3)
    assert Lambda(lambda t: t.sum(-1)).compute_output_shape((None, 4, 3)) == (None, 4)  # inferred
    with pytest.raises(TypeError, match="`output_shape` must be a list, a tuple, or a function"):
        Lambda(lambda t: t, output_shape=3)


def test_a_lambda_output_shape_the_function_contradicts_is_an_error_when_building():
    from kerasish.models import Sequential
    Sequential([Dense(4, input_shape=(3,)), Lambda(lambda t: t[:, :2], output_shape=(2,))]).build()
    Sequential([Dense(4, input_shape=(3,)), Lambda(lambda t: t[:, :2], output_shape=(None,))]).build()
    with pytest.raises(ValueError, match=r"output_shape declares outputs of shape \(None, 3\), but the function "
                                         r"returns \(None, 2\)"):
        Sequential([Dense(4, input_shape=(3,)), Lambda(lambda t: t[:, :2], output_shape=(3,))]).build()
    with pytest.raises(ValueError, match="output_shape declares"):
        Sequential([Dense(4, input_shape=(3,)),
                    Lambda(lambda t: t[:, :2], output_shape=lambda shape: (shape[0], 4))]).build()


def test_torch_module_wraps_linear_counts_its_params_and_sees_keras_layout():
    backend.clear_session()
    linear = nn.Linear(4, 2)
    layer = built(TorchModule(linear), (None, 3, 3, 4))
    assert layer.name == "linear_1"
    assert layer.count_params() == 4 * 2 + 2
    weight, bias = layer.get_weights()   # torch layouts: no Keras twin
    assert weight.shape == (2, 4) and bias.shape == (2,)
    x = RNG.randn(2, 3, 3, 4).astype("float32")   # channels_last: Linear acts on the channel axis
    out = layer(torch.tensor(x)).detach().numpy()
    assert out.shape == (2, 3, 3, 2)
    np.testing.assert_allclose(out, x @ weight.T + bias, rtol=1e-5, atol=1e-6)
    assert {id(p) for p in layer.parameters()} == {id(p) for p in linear.parameters()}


def test_torch_module_trainable_false_freezes_the_wrapped_params():
    layer = built(TorchModule(nn.Linear(4, 2), trainable=False), (None, 4))
    assert all(not p.requires_grad for p in layer.parameters())
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_torch_module_rejects_non_modules():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TorchModule(lambda x: x)


def test_build_called_directly_leaves_the_layer_built_with_the_weights_set_after_it():
    # Keras: a custom layer may build its sublayers itself (self.dense.build(input_shape)); weights set in between
    # are the ones the first call uses
    from kerasish.layers import Dense, Layer

    dense = Dense(2)
    dense.build((None, 3))
    assert dense.built
    dense.set_weights([np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0], "float32")])
    out = dense(torch.ones(1, 3)).detach().numpy()
    np.testing.assert_allclose(out, [[0 + 2 + 4 + 1, 1 + 3 + 5 - 1]])

    class Composite(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Dense(4)

        def build(self, input_shape):
            self.inner.build(input_shape)
            super().build(input_shape)

        def call(self, x):
            return self.inner(x)

    layer = Composite(trainable=False)
    layer.build((None, 3))
    assert layer.built and layer.inner.built and len(layer.weights) == 2
    assert not any(p.requires_grad for p in layer.parameters())  # completion applied trainable=False once built
