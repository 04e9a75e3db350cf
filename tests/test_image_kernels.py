"""Augmentation kernels against keras-preprocessing 1.1.2 (KP112), SciPy, PIL and NumPy.

Tolerances: with bilinear interpolation (order 1) our sampling coordinates are float32 (SciPy's are float64):
a few 1e-6 pixel, so values on a 0..255 scale agree to ~1e-3 (ATOL_BILINEAR). Order 0 picks the same pixel
as SciPy (floor(p + 0.5), same boundary folding) and agrees exactly; pixels whose SciPy coordinate lies within
1e-4 of a rounding tie are left out of the comparison (at most a few per image).
"""
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import keras_preprocessing.image as kp
from keras_preprocessing.image.affine_transformations import transform_matrix_offset_center

from kerasish.preprocessing.image import ImageDataGenerator, apply_affine_transform, kernels
from kerasish.preprocessing.image.params import params_from_keras_dict

ATOL_BILINEAR = 2e-3
FILL_MODES = ("constant", "nearest", "reflect", "wrap")
SHAPES = {"square": (12, 12), "non_square": (9, 14)}
GEOMETRIC = {
    "rotation": dict(theta=37.3),
    "shift": dict(tx=2.3, ty=-3.6),
    "shear": dict(shear=21.7),
    "zoom": dict(zx=0.73, zy=1.21),
    "flip_horizontal": dict(flip_horizontal=True),
    "flip_vertical": dict(flip_vertical=True),
    "combined": dict(theta=-12.4, tx=1.3, ty=2.6, shear=-8.1, zx=0.91, zy=1.13, flip_horizontal=True,
                     flip_vertical=True),
}

# keras-preprocessing 1.1.2 imports affine_transform from a namespace SciPy deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Please import `affine_transform`:DeprecationWarning")


def random_image(shape, data_format, seed=0, channels=3):
    rng = np.random.RandomState(seed)
    image = (rng.rand(*shape, channels) * 255).astype(np.float32)
    return image if data_format == "channels_last" else np.ascontiguousarray(image.transpose(2, 0, 1))


def keras_matrix(p, h, w):
    """KP112's sampling matrix, built from its documented factors and its own centring function."""
    theta, shear = np.deg2rad(p.get("theta", 0)), np.deg2rad(p.get("shear", 0))
    rotation = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    shift = np.array([[1, 0, p.get("tx", 0)], [0, 1, p.get("ty", 0)], [0, 0, 1]])
    shear_m = np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    zoom = np.diag([p.get("zx", 1), p.get("zy", 1), 1])
    return transform_matrix_offset_center(rotation @ shift @ shear_m @ zoom, h, w)


def tie_free_mask(p, h, w):
    """Output pixels whose SciPy sampling coordinate is not within 1e-4 of an order-0 rounding tie."""
    matrix = keras_matrix(p, h, w)
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    coords = np.einsum("ij,jhw->ihw", matrix[:2], np.stack([rows, cols, np.ones_like(rows)]))
    distance = np.abs(np.abs(coords - np.floor(coords)) - 0.5)
    mask = (distance > 1e-4).all(0)
    if p.get("flip_horizontal"):
        mask = mask[:, ::-1]
    if p.get("flip_vertical"):
        mask = mask[::-1]
    return mask


# ---------------------------------------------------------------------------- apply_transform against KP112
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("name", list(GEOMETRIC))
def test_apply_transform_matches_keras_preprocessing(name, fill_mode, order):
    params = GEOMETRIC[name]
    for shape in SHAPES.values():
        for data_format in ("channels_last", "channels_first"):
            x = random_image(shape, data_format)
            config = dict(fill_mode=fill_mode, cval=7.5, interpolation_order=order, data_format=data_format)
            ours = ImageDataGenerator(**config).apply_transform(x, params)
            expected = kp.ImageDataGenerator(**config).apply_transform(x, params)
            assert ours.shape == expected.shape and ours.dtype == np.float32
            if order == 1:
                np.testing.assert_allclose(ours, expected, rtol=0, atol=ATOL_BILINEAR, err_msg=f"{shape} {data_format}")
            else:
                mask = tie_free_mask(params, *shape)
                assert mask.mean() > 0.97
                channel_axis = -1 if data_format == "channels_last" else 0
                ours, expected = np.moveaxis(ours, channel_axis, -1), np.moveaxis(expected, channel_axis, -1)
                np.testing.assert_array_equal(ours[mask], expected[mask], err_msg=f"{shape} {data_format}")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("intensity", [23.5, -41.0])
def test_channel_shift_matches_keras_preprocessing(intensity, data_format):
    x = random_image((9, 14), data_format)
    params = dict(channel_shift_intensity=intensity)
    ours = ImageDataGenerator(data_format=data_format).apply_transform(x, params)
    expected = kp.ImageDataGenerator(data_format=data_format).apply_transform(x, params)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("brightness", [0.37, 1.0, 1.61])
def test_brightness_matches_keras_preprocessing_exactly(brightness, channels):
    x = random_image((9, 14), "channels_last", channels=channels) * 0.5 + 20  # min != 0, max != 255
    params = dict(brightness=brightness)
    ours = ImageDataGenerator().apply_transform(x, params)
    expected = kp.ImageDataGenerator().apply_transform(x, params)
    np.testing.assert_array_equal(ours, expected)


def test_brightness_after_geometry_differs_only_by_quantisation():
    # Geometry first (float32 coordinates vs SciPy's float64) can move a value across a uint8 boundary.
    x = random_image((12, 12), "channels_last")
    params = dict(theta=21.0, zx=0.8, brightness=1.3)
    ours = ImageDataGenerator().apply_transform(x, params)
    expected = kp.ImageDataGenerator().apply_transform(x, params)
    diff = np.abs(ours - expected)
    assert diff.max() <= 2 and (diff > 0).mean() < 0.01


def test_brightness_channels_first_is_the_channels_last_result_transposed():
    # KP112 cannot do this (array_to_img assumes channels_last); we apply it along the channel axis.
    x = random_image((9, 14), "channels_last")
    ours = ImageDataGenerator(data_format="channels_first").apply_transform(x.transpose(2, 0, 1), dict(brightness=1.4))
    expected = kp.ImageDataGenerator().apply_transform(x, dict(brightness=1.4))
    np.testing.assert_array_equal(ours, expected.transpose(2, 0, 1))


def test_brightness_kernel_matches_pil_directly():
    levels = np.arange(256, dtype=np.float32).reshape(16, 16, 1)
    for factor in (0.3, 0.7, 1.3, 2.5):
        expected = np.asarray(ImageEnhance.Brightness(Image.fromarray(levels[:, :, 0].astype(np.uint8), "L"))
                              .enhance(factor), dtype=np.float32)[:, :, None]
        ours = kernels.brightness_shift(torch.from_numpy(levels)[None], torch.tensor([factor]), channel_dim=-1)[0]
        np.testing.assert_array_equal(ours.numpy(), expected)


# ---------------------------------------------------------------------------- apply_affine_transform and helpers
@pytest.mark.parametrize("order", [0, 1, 3])
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_apply_affine_transform_matches_keras_preprocessing(fill_mode, order):
    x = random_image((9, 14), "channels_last")
    params = dict(theta=-23.0, tx=1.7, ty=-2.2, shear=11.0, zx=1.15, zy=0.85)
    ours = apply_affine_transform(x, **params, fill_mode=fill_mode, cval=3.0, order=order)
    expected = kp.apply_affine_transform(x, **params, fill_mode=fill_mode, cval=3.0, order=order)
    atol = 0 if order == 0 else ATOL_BILINEAR if order == 1 else 1e-3  # order 3: SciPy itself on the host
    np.testing.assert_allclose(ours, expected, rtol=0, atol=atol)


def test_apply_affine_transform_honours_axes_as_keras_preprocessing_does():
    # Channels first, with Keras's defaults for the other axes (the centre then comes from shape[0], shape[1]).
    x = random_image((9, 14), "channels_first")
    for kwargs in (dict(channel_axis=0), dict(row_axis=1, col_axis=2, channel_axis=0)):
        ours = apply_affine_transform(x, theta=30.0, **kwargs)
        expected = kp.apply_affine_transform(x, theta=30.0, **kwargs)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=ATOL_BILINEAR)


def test_apply_affine_transform_without_transform_returns_the_input():
    x = random_image((4, 5), "channels_last")
    assert apply_affine_transform(x) is x


def test_integer_images_round_half_up_as_scipy():
    x = (random_image((9, 14), "channels_last")).astype(np.uint8)
    ours = apply_affine_transform(x, theta=15.0, order=1)
    expected = kp.apply_affine_transform(x, theta=15.0, order=1)
    assert ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - expected.astype(int)).max() <= 1


# ---------------------------------------------------------------------------- the matrices
def test_affine_matrices_equal_keras_composition_and_numpy_equals_torch():
    p = dict(theta=31.0, tx=2.5, ty=-1.5, shear=12.0, zx=0.8, zy=1.3)
    batch = params_from_keras_dict(p)
    ours_torch = kernels.affine_matrices(batch, 10, 17)
    ours_numpy = kernels.affine_matrices({k: v.numpy() for k, v in batch.items() if v is not None}, 10, 17)
    np.testing.assert_allclose(ours_torch[0].numpy(), keras_matrix(p, 10, 17), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours_numpy[0], keras_matrix(p, 10, 17), rtol=0, atol=1e-12)


def test_flips_are_folded_in_as_output_reflections():
    p = dict(theta=31.0, tx=2.5, flip_horizontal=True, flip_vertical=True)
    h, w = 10, 17
    flip_h = np.array([[1, 0, 0], [0, -1, w - 1], [0, 0, 1]])
    flip_v = np.array([[-1, 0, h - 1], [0, 1, 0], [0, 0, 1]])
    expected = keras_matrix(p, h, w) @ flip_h @ flip_v
    np.testing.assert_allclose(kernels.affine_matrices(params_from_keras_dict(p), h, w)[0].numpy(), expected,
                               atol=1e-12)


def test_exact_geometry_rotates_about_the_true_centre():
    x = random_image((9, 14), "channels_last")
    rotated = ImageDataGenerator(geometry="exact").apply_transform(x, dict(theta=180.0))
    np.testing.assert_allclose(rotated, x[::-1, ::-1], atol=1e-3)


def test_keras_geometry_pivots_one_pixel_off_centre():
    # KP112's pivot is (h/2 + 0.5, w/2 + 0.5): a 180 degree turn samples row h + 1 - r instead of h - 1 - r.
    x = random_image((9, 14), "channels_last")
    rotated = ImageDataGenerator(geometry="keras").apply_transform(x, dict(theta=180.0))
    np.testing.assert_allclose(rotated[2:, 2:], x[::-1, ::-1][:-2, :-2], atol=1e-3)


# ---------------------------------------------------------------------------- kernel properties
def test_resample_of_a_batch_equals_resampling_each_image():
    images = torch.from_numpy(np.stack([random_image((8, 11), "channels_first", seed=s) for s in range(4)]))
    p = dict(theta=torch.tensor([0.0, 15.0, -40.0, 90.0], dtype=torch.float64),
             tx=torch.tensor([0.0, 1.5, -2.0, 0.0], dtype=torch.float64),
             ty=torch.zeros(4, dtype=torch.float64), shear=torch.tensor([0.0, 5.0, 0.0, -10.0], dtype=torch.float64),
             zx=torch.tensor([1.0, 0.9, 1.2, 1.0], dtype=torch.float64), zy=torch.ones(4, dtype=torch.float64),
             flip_horizontal=torch.tensor([False, True, False, True]),
             flip_vertical=torch.tensor([False, False, True, True]))
    matrices = kernels.affine_matrices(p, 8, 11)
    for fill_mode in FILL_MODES:
        before = images.clone()
        batch = kernels.resample(images, matrices, fill_mode, 2.0, 1)
        assert torch.equal(images, before)  # no in-place change
        for i in range(4):
            single = kernels.resample(images[i:i + 1], matrices[i:i + 1], fill_mode, 2.0, 1)
            torch.testing.assert_close(batch[i:i + 1], single, rtol=0, atol=ATOL_BILINEAR)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_apply_transforms_keeps_dtype_and_handles_empty_batches(dtype):
    p = params_from_keras_dict(dict(theta=10.0, channel_shift_intensity=3.0), n=2)
    images = torch.rand(2, 5, 6, 3, dtype=dtype)
    assert kernels.apply_transforms(images, p).dtype == dtype
    empty = params_from_keras_dict(dict(theta=10.0), n=0)
    assert kernels.apply_transforms(torch.rand(0, 5, 6, 3, dtype=dtype), empty).shape == (0, 5, 6, 3)


def test_identity_and_flip_only_batches_are_exact():
    images = torch.from_numpy(random_image((7, 9), "channels_last"))[None]
    p = params_from_keras_dict(dict(flip_horizontal=True))
    flipped = kernels.apply_transforms(images, p, resample_needed=False)
    assert torch.equal(flipped, images.flip(2))
    assert torch.equal(kernels.apply_transforms(images, params_from_keras_dict({})), images)


def test_scipy_boundary_rules_on_a_line():
    # Reference values worked out by hand from SciPy's documented extensions of [0, 10, 20, 30, 40]
    # ('wrap' as SciPy >= 1.6 computes it: period n - 1), sampled at p = -1.25 and 5.5.
    line = torch.tensor([0.0, 10.0, 20.0, 30.0, 40.0]).view(1, 1, 1, 5)
    expected = {"nearest": [0.0, 40.0], "reflect": [2.5, 35.0], "constant": [-1.0, -1.0], "wrap": [27.5, 15.0]}
    for mode, values in expected.items():
        out = []
        for offset in (-1.25, 5.5):
            m = torch.tensor([[[1.0, 0, 0], [0, 1, offset], [0, 0, 1]]], dtype=torch.float64)
            out.append(float(kernels.resample(line, m, mode, -1.0, 1)[0, 0, 0, 0]))
        assert out == pytest.approx(values), mode


def test_channel_shift_clips_to_the_image_range():
    x = torch.tensor([[[[1.0, 5.0], [9.0, 3.0]]]])
    out = kernels.channel_shift(x, torch.tensor([4.0]))
    np.testing.assert_array_equal(out.numpy(), np.clip(x.numpy() + 4, 1, 9))


def test_standardize_kernel_per_image_statistics():
    x = torch.from_numpy(np.stack([random_image((4, 5), "channels_last", seed=s) for s in range(3)]))
    mean, std = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 3.0, 4.0])
    out = kernels.standardize(x, rescale=0.5, samplewise_center=True, samplewise_std_normalization=True,
                              mean=mean, std=std).numpy()
    expected = []
    for image in x.numpy():
        image = image * 0.5
        image = image - image.mean()
        image = image / (image.std() + 1e-6)
        expected.append((image - mean.numpy()) / (std.numpy() + 1e-6))
    np.testing.assert_allclose(out, np.stack(expected), rtol=1e-5, atol=1e-5)


def test_large_images_take_the_two_product_grid_path(monkeypatch):
    x = random_image((9, 14), "channels_last")
    params = GEOMETRIC["combined"]
    small = ImageDataGenerator().apply_transform(x, params)
    monkeypatch.setattr(kernels, "_BASIS_MAX_PIXELS", 16)
    np.testing.assert_allclose(ImageDataGenerator().apply_transform(x, params), small, rtol=0, atol=ATOL_BILINEAR)
