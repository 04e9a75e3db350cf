"""ImageDataGenerator's constructor, fit, standardize and per-image API, and the image helpers, against
keras-preprocessing 1.1.2 (KP112)."""
import warnings

import numpy as np
import pytest
import torch

import keras_preprocessing.image as kp

from kerasish import backend
from kerasish.preprocessing import image as kimage
from kerasish.preprocessing.image import ImageDataGenerator

# keras-preprocessing 1.1.2 imports affine_transform from a namespace SciPy deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Please import `affine_transform`:DeprecationWarning")


def images(n=24, shape=(6, 5, 3), seed=0):
    return (np.random.RandomState(seed).rand(n, *shape) * 255).astype(np.float32)


def quiet(cls, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**kwargs)


FIT_CONFIGS = {
    "featurewise_center": dict(featurewise_center=True),
    "featurewise_std": dict(featurewise_center=True, featurewise_std_normalization=True),
    "rescale_then_std": dict(rescale=1 / 255.0, featurewise_std_normalization=True),
    "zca": dict(zca_whitening=True, zca_epsilon=1e-3),
}


# ---------------------------------------------------------------------------- fit and standardize
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", list(FIT_CONFIGS))
def test_fit_statistics_match_keras_preprocessing(name, data_format):
    x = images()
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    ours = quiet(ImageDataGenerator, data_format=data_format, **FIT_CONFIGS[name])
    ref = quiet(kp.ImageDataGenerator, data_format=data_format, **FIT_CONFIGS[name])
    ours.fit(x)
    ref.fit(x)
    for attribute in ("mean", "std", "principal_components"):
        expected = getattr(ref, attribute)
        if expected is None:
            assert getattr(ours, attribute) is None
        else:
            assert getattr(ours, attribute).shape == expected.shape
            np.testing.assert_allclose(getattr(ours, attribute), expected, rtol=1e-5, atol=1e-6)
    for image in x[:3]:
        np.testing.assert_allclose(ours.standardize(image.copy()), ref.standardize(image.copy()), rtol=1e-4,
                                   atol=1e-3)


def test_samplewise_normalisation_and_rescale_match_keras_preprocessing():
    config = dict(samplewise_center=True, samplewise_std_normalization=True, rescale=1 / 255.0)
    x = images(n=2)
    ours, ref = quiet(ImageDataGenerator, **config), quiet(kp.ImageDataGenerator, **config)
    np.testing.assert_allclose(ours.standardize(x[0].copy()), ref.standardize(x[0].copy()), rtol=1e-5, atol=1e-5)
    # On a whole batch Keras's sample statistics cover the batch: so do ours.
    np.testing.assert_allclose(ours.standardize(x.copy()), ref.standardize(x.copy()), rtol=1e-5, atol=1e-5)


def test_standardize_changes_float_arrays_in_place_and_calls_preprocessing_first():
    seen = []

    def preprocess(img):
        seen.append(img.max())
        return img + 1.0

    gen = ImageDataGenerator(rescale=0.5, preprocessing_function=preprocess)
    x = np.full((2, 2, 3), 9.0, dtype=np.float32)
    out = gen.standardize(x)
    assert seen == [9.0]  # before rescale
    np.testing.assert_array_equal(out, np.full((2, 2, 3), 5.0))


def test_standardize_in_place_on_a_float_array():
    gen = ImageDataGenerator(rescale=0.5)
    x = np.full((2, 2, 3), 8.0, dtype=np.float32)
    out = gen.standardize(x)
    assert out is x and x[0, 0, 0] == 4.0


def test_standardize_warns_when_featurewise_statistics_are_missing():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="hasn't been fit on any training data"):
        gen.standardize(images(n=1)[0])


def test_fit_with_augmentation_is_seeded_and_uses_every_round():
    x = images(n=8)
    config = dict(featurewise_center=True, rotation_range=40, zoom_range=0.3)
    a, b, c = (ImageDataGenerator(**config) for _ in range(3))
    a.fit(x, augment=True, rounds=3, seed=4)
    b.fit(x, augment=True, rounds=3, seed=4)
    c.fit(x, augment=False)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.allclose(a.mean, c.mean)


def test_fit_rejects_other_ranks_and_warns_about_odd_channel_counts():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.raises(ValueError, match="Input to `.fit\\(\\)` should have rank 4"):
        gen.fit(np.zeros((4, 5, 5)))
    with pytest.warns(UserWarning, match="expected either 1, 3 or 4 channels"):
        gen.fit(np.zeros((4, 5, 5, 7)))


def test_fit_does_not_touch_numpy_global_random_state():
    state = np.random.get_state()
    ImageDataGenerator(featurewise_center=True, rotation_range=10).fit(images(n=4), augment=True, seed=1)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


# ---------------------------------------------------------------------------- constructor
def test_normalisation_options_override_each_other_with_keras_warnings():
    with pytest.warns(UserWarning) as record:
        gen = ImageDataGenerator(zca_whitening=True, featurewise_std_normalization=True)
    messages = [str(r.message) for r in record]
    assert any("`zca_whitening`, which overrides setting of `featurewise_center`" in m for m in messages)
    assert any("overrides setting of`featurewise_std_normalization`" in m for m in messages)  # Keras's typo
    assert gen.featurewise_center and not gen.featurewise_std_normalization
    with pytest.warns(UserWarning, match="overrides setting of `samplewise_center`"):
        assert ImageDataGenerator(samplewise_std_normalization=True).samplewise_center


@pytest.mark.parametrize("kwargs, message", [
    (dict(data_format="channels_middle"), "`data_format` should be"),
    (dict(validation_split=1.5), "`validation_split` must be strictly between 0 and 1"),
    (dict(zoom_range=[0.5]), "`zoom_range` should be a float or a tuple or list of two floats"),
    (dict(brightness_range=0.5), "`brightness_range should be tuple or list of two floats"),
    (dict(fill_mode="mirror"), "fill_mode: expected one of"),
    (dict(interpolation_order=7), "interpolation_order: expected a spline order 0-5"),
    (dict(geometry="centred"), "geometry: expected 'keras'"),
])
def test_bad_constructor_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageDataGenerator(**kwargs)


def test_keras_defaults_and_backend_data_format():
    gen = ImageDataGenerator(zoom_range=0.2)
    assert gen.zoom_range == [0.8, 1.2] and gen.dtype == "float32" and gen.data_format == "channels_last"
    assert (gen.channel_axis, gen.row_axis, gen.col_axis) == (3, 1, 2)
    backend.set_image_data_format("channels_first")
    try:
        assert ImageDataGenerator().data_format == "channels_first"
    finally:
        backend.set_image_data_format("channels_last")


# ---------------------------------------------------------------------------- per-image API
def test_random_transform_with_a_seed_is_apply_transform_of_the_seeded_draw():
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, shear_range=10, horizontal_flip=True)
    x = images(n=1, shape=(9, 11, 3))[0]
    params = gen.get_random_transform(x.shape, seed=3)
    np.testing.assert_array_equal(gen.random_transform(x, seed=3), gen.apply_transform(x, params))
    expected = kp.ImageDataGenerator().apply_transform(x, params)
    np.testing.assert_allclose(gen.random_transform(x, seed=3), expected, atol=2e-3)


def test_apply_transform_takes_a_partial_dict_and_keeps_the_float_dtype():
    x = images(n=1, shape=(5, 7, 3))[0].astype(np.float64)
    out = ImageDataGenerator().apply_transform(x, {"tx": 1.0})
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[:-1], x[1:], atol=1e-9)  # tx=+1 moves content up one row


# ---------------------------------------------------------------------------- image helpers
def test_array_to_img_and_img_to_array_match_keras_preprocessing():
    x = images(n=1, shape=(5, 7, 3))[0] * 0.3 + 4
    for scale in (True, False):
        ours = np.asarray(kimage.array_to_img(x, scale=scale))
        np.testing.assert_array_equal(ours, np.asarray(kp.array_to_img(x, scale=scale)))
    img = kp.array_to_img(x)
    np.testing.assert_array_equal(kimage.img_to_array(img, "channels_first"), kp.img_to_array(img, "channels_first"))
    gray = kp.array_to_img(x[:, :, :1] * 100, scale=False)
    assert gray.mode == "I" and kimage.array_to_img(x[:, :, :1] * 100, scale=False).mode == "I"


def test_save_img_and_load_img_round_trip(tmp_path):
    x = images(n=1, shape=(6, 8, 3))[0]
    path = tmp_path / "picture.png"
    kimage.save_img(path, x)
    loaded = kimage.load_img(path, target_size=(3, 4), interpolation="bilinear")
    expected = kp.load_img(path, target_size=(3, 4), interpolation="bilinear")
    np.testing.assert_array_equal(np.asarray(loaded), np.asarray(expected))
    gray = kimage.load_img(path, color_mode="grayscale")
    assert gray.mode == "L" and gray.size == (8, 6)
    with pytest.raises(ValueError, match="Invalid interpolation method"):
        kimage.load_img(path, target_size=(3, 4), interpolation="cubic-ish")


def test_random_helpers_apply_the_affine_transform_of_their_draw():
    x = images(n=1, shape=(9, 11, 3))[0]
    cases = [
        (lambda: kimage.random_rotation(x, 30, channel_axis=2), lambda u: dict(theta=-30 + 60 * u[0])),
        (lambda: kimage.random_shift(x, 0.2, 0.1, row_axis=0, col_axis=1, channel_axis=2),
         lambda u: dict(tx=(-0.1 + 0.2 * u[0]) * 9, ty=(-0.2 + 0.4 * u[1]) * 11)),
        (lambda: kimage.random_shear(x, 20, channel_axis=2), lambda u: dict(shear=-20 + 40 * u[0])),
        (lambda: kimage.random_zoom(x, (0.7, 1.3), channel_axis=2),
         lambda u: dict(zx=0.7 + 0.6 * u[0], zy=0.7 + 0.6 * u[1])),
    ]
    for run, expected_params in cases:
        torch.manual_seed(11)
        draws = [torch.rand((), dtype=torch.float64).item() for _ in range(2)]
        torch.manual_seed(11)
        ours = run()
        expected = kp.apply_affine_transform(x, **expected_params(draws), channel_axis=2)
        np.testing.assert_allclose(ours, expected, atol=2e-3)


def test_channel_shift_and_brightness_helpers_match_keras_preprocessing():
    x = images(n=1, shape=(5, 7, 3))[0]
    np.testing.assert_allclose(kimage.apply_channel_shift(x, 30.0, channel_axis=2),
                               kp.apply_channel_shift(x, 30.0, channel_axis=2), atol=1e-4)
    np.testing.assert_array_equal(kimage.apply_brightness_shift(x, 0.8), kp.apply_brightness_shift(x, 0.8))
    with pytest.raises(ValueError, match="`brightness_range should be tuple or list of two floats"):
        kimage.random_brightness(x, (0.5,))
    with pytest.raises(ValueError, match="`zoom_range` should be a tuple or list of two floats"):
        kimage.random_zoom(x, (0.5,))
    assert 0 <= kimage.random_brightness(x, (0.5, 1.5)).max() <= 255
