"""Random transform parameters: Keras's distributions (KP112 ``get_random_transform``), drawn per image from a
torch.Generator."""
import numpy as np
import pytest
import torch

from kerasish.preprocessing.image import ImageDataGenerator
from kerasish.preprocessing.image.params import (PARAM_KEYS, ShiftRange, TransformRanges, batch_seed,
                                                 draw_transform_params, params_from_keras_dict,
                                                 params_to_keras_dicts, parse_zoom_range)

N = 4000


def draw(n=N, height=20, width=30, seed=0, **ranges):
    return draw_transform_params(TransformRanges(**ranges), n, height, width, torch.Generator().manual_seed(seed))


def test_disabled_options_give_keras_neutral_values():
    p = draw(n=5)
    assert set(p) == set(PARAM_KEYS)
    for key in ("theta", "tx", "ty", "shear"):
        assert torch.equal(p[key], torch.zeros(5, dtype=torch.float64))
    assert torch.equal(p["zx"], torch.ones(5, dtype=torch.float64)) and torch.equal(p["zy"], p["zx"])
    assert not p["flip_horizontal"].any() and not p["flip_vertical"].any()
    assert p["channel_shift_intensity"] is None and p["brightness"] is None


def test_rotation_shear_channel_brightness_are_uniform_in_their_ranges():
    p = draw(rotation_range=30.0, shear_range=20.0, channel_shift_range=50.0, brightness_range=(0.5, 1.5))
    for key, low, high in (("theta", -30, 30), ("shear", -20, 20), ("channel_shift_intensity", -50, 50),
                           ("brightness", 0.5, 1.5)):
        values = p[key].numpy()
        assert values.min() >= low and values.max() < high
        assert abs(values.mean() - (low + high) / 2) < 0.05 * (high - low)
        # uniform: each quarter of the range holds about a quarter of the draws
        counts = np.histogram(values, bins=4, range=(low, high))[0]
        assert np.all(np.abs(counts / N - 0.25) < 0.03)


def test_fractional_shifts_scale_by_rows_for_tx_and_columns_for_ty():
    p = draw(height=20, width=30, height_shift=ShiftRange.parse(0.1, "h"), width_shift=ShiftRange.parse(0.2, "w"))
    assert p["tx"].abs().max() <= 2.0 and p["tx"].abs().max() > 1.9  # 0.1 * 20 rows
    assert p["ty"].abs().max() <= 6.0 and p["ty"].abs().max() > 5.8  # 0.2 * 30 columns


def test_float_shift_of_one_or_more_is_in_pixels():
    p = draw(height_shift=ShiftRange.parse(2.5, "h"))
    assert p["tx"].abs().max() <= 2.5 and p["tx"].abs().max() > 2.4


def test_int_shift_draws_whole_pixels_below_the_value_with_a_random_sign():
    # Keras docs: width_shift_range=2 gives values in {-1, 0, +1}.
    p = draw(width_shift=ShiftRange.parse(2, "w"))
    assert set(p["ty"].tolist()) == {-1.0, 0.0, 1.0}


def test_list_shift_picks_values_with_a_random_sign_and_fractions_scale():
    p = draw(width_shift=ShiftRange.parse([3, 5], "w"), height_shift=ShiftRange.parse([0.1, 0.25], "h"))
    assert set(p["ty"].tolist()) == {-5.0, -3.0, 3.0, 5.0}
    assert set(np.round(p["tx"].numpy(), 9).tolist()) == {-5.0, -2.0, 2.0, 5.0}  # max < 1: times 20 rows


def test_zoom_draws_zx_and_zy_independently():
    p = draw(zoom_range=parse_zoom_range(0.2))
    zx, zy = p["zx"].numpy(), p["zy"].numpy()
    assert zx.min() >= 0.8 and zx.max() < 1.2 and zy.min() >= 0.8 and zy.max() < 1.2
    assert not np.array_equal(zx, zy)
    assert abs(np.corrcoef(zx, zy)[0, 1]) < 0.05


def test_zoom_range_forms():
    assert parse_zoom_range(0.3) == (0.7, 1.3)
    assert parse_zoom_range([0.5, 2]) == (0.5, 2.0)
    with pytest.raises(ValueError, match="`zoom_range` should be a float or a tuple or list of two floats"):
        parse_zoom_range([1, 2, 3])
    p = draw(zoom_range=(1.0, 1.0))
    assert torch.equal(p["zx"], torch.ones(N, dtype=torch.float64))


def test_flips_happen_half_of_the_time_and_independently():
    p = draw(horizontal_flip=True, vertical_flip=True)
    h, v = p["flip_horizontal"].numpy(), p["flip_vertical"].numpy()
    assert abs(h.mean() - 0.5) < 0.03 and abs(v.mean() - 0.5) < 0.03
    assert abs((h & v).mean() - 0.25) < 0.03


def test_every_image_gets_its_own_parameters():
    p = draw(n=32, rotation_range=30.0)
    assert len(set(p["theta"].tolist())) == 32


def test_same_generator_seed_same_parameters_and_options_do_not_disturb_each_other():
    a = draw(n=16, seed=5, rotation_range=30.0)
    b = draw(n=16, seed=5, rotation_range=30.0, brightness_range=(0.5, 1.5), channel_shift_range=10.0)
    assert torch.equal(a["theta"], b["theta"])
    assert not torch.equal(a["theta"], draw(n=16, seed=6, rotation_range=30.0)["theta"])


def test_batch_seed_is_a_pure_function_of_seed_epoch_and_index():
    assert batch_seed(3, 1, 2) == batch_seed(3, 1, 2)
    assert len({batch_seed(3, e, i) for e in range(5) for i in range(5)}) == 25
    assert batch_seed(3, 1, 2) != batch_seed(4, 1, 2)


def test_keras_dicts_round_trip():
    p = draw(n=3, rotation_range=10.0, channel_shift_range=5.0, horizontal_flip=True)
    dicts = params_to_keras_dicts(p)
    assert set(dicts[0]) == set(PARAM_KEYS) and dicts[0]["brightness"] is None
    back = params_from_keras_dict(dicts[1])
    assert back["theta"].item() == p["theta"][1].item() and back["brightness"] is None
    with pytest.warns(UserWarning, match="ignoring unknown transform parameter"):
        params_from_keras_dict({"rotation": 3})


def test_get_random_transform_returns_keras_keys_and_is_seeded():
    gen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
                             horizontal_flip=True)
    a = gen.get_random_transform((20, 30, 3), seed=7)
    assert set(a) == set(PARAM_KEYS)
    assert a == gen.get_random_transform((20, 30, 3), seed=7)
    assert abs(a["tx"]) <= 2.0 and abs(a["ty"]) <= 3.0 and -20 <= a["theta"] <= 20
    cf = ImageDataGenerator(width_shift_range=0.5, data_format="channels_first")
    assert all(abs(cf.get_random_transform((3, 4, 100))["ty"]) <= 50 for _ in range(20))


def test_get_random_transform_leaves_numpy_global_state_alone():
    state = np.random.get_state()
    ImageDataGenerator(rotation_range=20).get_random_transform((8, 8, 3))
    ImageDataGenerator(rotation_range=20).get_random_transform((8, 8, 3), seed=1)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_changing_an_attribute_after_construction_takes_effect():
    gen = ImageDataGenerator()
    gen.rotation_range = 45
    assert gen.get_random_transform((8, 8, 3), seed=1)["theta"] != 0


def test_bad_shift_ranges_are_rejected_with_the_argument_name():
    with pytest.raises(ValueError, match="width_shift_range"):
        ShiftRange.parse("wide", "width_shift_range")
    with pytest.raises(ValueError, match="height_shift_range"):
        ShiftRange.parse(np.zeros((2, 2)) + 1, "height_shift_range")
