"""kerasish.backend.shapes against NumPy: reshaping, joining, repeating, indexing, padding and resizing with
Keras 2.3.1's argument conventions (padding pairs, data_format, tile's short ``n``, squeeze's size check)."""
import numpy as np
import pytest
import torch

from kerasish import backend as K

X = np.arange(24, dtype="float32").reshape(2, 3, 4)


@pytest.fixture
def channels_first():
    K.set_image_data_format("channels_first")
    yield
    K.set_image_data_format("channels_last")


def t(a):
    return torch.from_numpy(np.asarray(a))


def test_concatenate_defaults_to_the_last_axis_and_takes_negative_axes():
    a, b = X, X[..., :2]
    np.testing.assert_array_equal(K.concatenate([t(a), t(b)]).numpy(), np.concatenate([a, b], -1))
    np.testing.assert_array_equal(K.concatenate([t(X), t(X)], axis=-3).numpy(), np.concatenate([X, X], 0))


def test_stack_adds_an_axis():
    np.testing.assert_array_equal(K.stack([t(X), t(X)], axis=1).numpy(), np.stack([X, X], 1))


def test_reshape_takes_minus_one_and_sizes_from_k_shape():
    x = t(X)
    np.testing.assert_array_equal(K.reshape(x, (-1, 4)).numpy(), X.reshape(-1, 4))
    assert K.reshape(x, (K.shape(x)[0], -1)).shape == (2, 12)


def test_permute_dimensions_and_transpose_reverse_all_axes():
    np.testing.assert_array_equal(K.permute_dimensions(t(X), (0, 2, 1)).numpy(), X.transpose(0, 2, 1))
    np.testing.assert_array_equal(K.transpose(t(X)).numpy(), X.T)


def test_flatten_and_batch_flatten():
    np.testing.assert_array_equal(K.flatten(t(X)).numpy(), X.reshape(-1))
    np.testing.assert_array_equal(K.batch_flatten(t(X)).numpy(), X.reshape(2, -1))
    assert K.batch_flatten(torch.arange(3.0)).shape == (3, 1)


def test_expand_dims_defaults_to_a_new_last_axis():
    assert K.expand_dims(t(X)).shape == (2, 3, 4, 1)
    assert K.expand_dims(t(X), 0).shape == (1, 2, 3, 4)


def test_squeeze_removes_an_axis_of_size_one_and_refuses_others():
    assert K.squeeze(torch.zeros(2, 1, 3), 1).shape == (2, 3)
    with pytest.raises(ValueError, match="size 3"):
        K.squeeze(torch.zeros(2, 1, 3), 2)


def test_repeat_elements_repeats_each_slice_in_place_like_np_repeat():
    np.testing.assert_array_equal(K.repeat_elements(t(X), 2, axis=1).numpy(), np.repeat(X, 2, axis=1))


def test_repeat_turns_batch_by_dim_into_batch_by_n_by_dim():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    np.testing.assert_array_equal(K.repeat(t(x), 3).numpy(), np.repeat(x[:, None, :], 3, axis=1))
    with pytest.raises(ValueError, match="2-D"):
        K.repeat(t(X), 2)


def test_tile_applies_a_short_n_to_the_last_axes():
    np.testing.assert_array_equal(K.tile(t(X), [2, 1, 3]).numpy(), np.tile(X, (2, 1, 3)))
    np.testing.assert_array_equal(K.tile(t(X), 2).numpy(), np.tile(X, (1, 1, 2)))
    with pytest.raises(NotImplementedError, match="rank 3"):
        K.tile(t(X), (1, 1, 1, 2))


def test_arange_is_int32_and_empty_for_a_negative_stop():
    out = K.arange(5)
    assert out.dtype == torch.int32 and out.tolist() == [0, 1, 2, 3, 4]
    assert K.arange(-3).tolist() == []
    assert K.arange(1, 8, 3).tolist() == [1, 4, 7]
    assert K.arange(3, dtype="float32").dtype == torch.float32


def test_reverse_takes_an_axis_or_a_list_of_axes():
    np.testing.assert_array_equal(K.reverse(t(X), 1).numpy(), X[:, ::-1])
    np.testing.assert_array_equal(K.reverse(t(X), [0, 2]).numpy(), X[::-1, :, ::-1])


def test_slice_takes_start_and_size_with_minus_one_for_the_rest():
    np.testing.assert_array_equal(K.slice(t(X), (0, 1, 1), (1, -1, 2)).numpy(), X[0:1, 1:, 1:3])
    with pytest.raises(ValueError, match="The dimension and the size of indices should match."):
        K.slice(t(X), (0, 1), (1, 1))


def test_gather_takes_rows_at_indices_of_any_shape():
    reference = np.arange(12, dtype="float32").reshape(4, 3)
    indices = np.array([[3, 0], [1, 1]])
    np.testing.assert_array_equal(K.gather(t(reference), indices).numpy(), reference[indices])
    np.testing.assert_array_equal(K.gather(t(reference), 2).numpy(), reference[2])


def test_one_hot_is_float32_and_zero_for_out_of_range_indices():
    out = K.one_hot(torch.tensor([[0, 2], [3, -1]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), [[[1, 0, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]])


# ---------------------------------------------------------------- padding
def test_temporal_padding_pads_the_time_axis():
    out = K.temporal_padding(t(X), (1, 2))
    np.testing.assert_array_equal(out.numpy(), np.pad(X, ((0, 0), (1, 2), (0, 0))))


IMAGES = np.arange(2 * 3 * 4 * 2, dtype="float32").reshape(2, 3, 4, 2)


def test_spatial_2d_padding_pads_rows_and_columns_in_either_layout():
    padding = ((1, 0), (2, 3))
    out = K.spatial_2d_padding(t(IMAGES), padding)
    np.testing.assert_array_equal(out.numpy(), np.pad(IMAGES, ((0, 0), (1, 0), (2, 3), (0, 0))))
    out = K.spatial_2d_padding(t(IMAGES), padding, data_format="channels_first")
    np.testing.assert_array_equal(out.numpy(), np.pad(IMAGES, ((0, 0), (0, 0), (1, 0), (2, 3))))


def test_spatial_2d_padding_defaults_to_the_image_data_format(channels_first):
    out = K.spatial_2d_padding(t(IMAGES))
    np.testing.assert_array_equal(out.numpy(), np.pad(IMAGES, ((0, 0), (0, 0), (1, 1), (1, 1))))


def test_spatial_3d_padding_pads_three_spatial_axes():
    volume = np.ones((1, 2, 2, 2, 3), dtype="float32")
    out = K.spatial_3d_padding(t(volume), ((1, 0), (0, 1), (2, 2)))
    np.testing.assert_array_equal(out.numpy(), np.pad(volume, ((0, 0), (1, 0), (0, 1), (2, 2), (0, 0))))
    with pytest.raises(ValueError, match="3 pairs"):
        K.spatial_3d_padding(t(volume), ((1, 1), (1, 1)))


# ---------------------------------------------------------------- resizing
def test_resize_images_nearest_repeats_rows_and_columns_in_either_layout():
    expected = np.repeat(np.repeat(IMAGES, 2, axis=1), 3, axis=2)
    np.testing.assert_array_equal(K.resize_images(t(IMAGES), 2, 3, "channels_last").numpy(), expected)
    nchw = IMAGES.transpose(0, 3, 1, 2)
    out = K.resize_images(t(nchw), 2, 3, "channels_first")
    np.testing.assert_array_equal(out.numpy(), expected.transpose(0, 3, 1, 2))


def test_resize_images_bilinear_samples_at_i_over_factor_clamped_at_the_edge():
    # TF1 resize_bilinear (align_corners=False, no half-pixel centres): output i reads input i / factor
    row = np.array([0.0, 4.0], dtype="float32").reshape(1, 1, 2, 1)
    out = K.resize_images(t(row), 1, 2, "channels_last", interpolation="bilinear")
    np.testing.assert_allclose(out.numpy().reshape(-1), [0.0, 2.0, 4.0, 4.0])


def test_resize_images_rejects_other_interpolations():
    with pytest.raises(ValueError, match='"nearest" or "bilinear"'):
        K.resize_images(t(IMAGES), 2, 2, "channels_last", interpolation="bicubic")


def test_resize_volumes_repeats_each_spatial_axis():
    volume = np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)
    expected = np.repeat(np.repeat(np.repeat(volume, 2, 1), 1, 2), 3, 3)
    np.testing.assert_array_equal(K.resize_volumes(t(volume), 2, 1, 3, "channels_last").numpy(), expected)
    with pytest.raises(ValueError, match="Unknown data_format"):
        K.resize_volumes(t(volume), 2, 2, 2, "nhwc")
