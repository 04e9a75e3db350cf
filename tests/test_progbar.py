"""Keras 2.3.1 ``Progbar`` output, byte for byte.

Every expected string below is derived by hand from the rules in K231 ``keras/utils/generic_utils.py``
(class ``Progbar``): counter ``'%%%dd/%d ['`` with the digits of ``target``; ``int(width * current / target)``
cells, ``=`` then ``>`` while running, ``.`` padding; ``' - ETA: '`` while running, else ``' - %.0fs'`` and the
time per unit; values ``%.4f`` when ``abs(v) > 1e-3`` (``v > 1e-3`` at verbose=2) else ``%.4e``.
"""
import io
import sys
import types

import pytest

from kerasish.utils import progbar
from kerasish.utils.progbar import (Progbar, format_bar, format_eta, format_progress_line, format_summary_line,
                                    format_time_per_unit, format_value, is_dynamic_display)


class FakeClock:
    def __init__(self, t=0.0):
        self.t = t

    def __call__(self):
        return self.t


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def no_ipykernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(progbar, "_clock", fake)
    return fake


# ----------------------------------------------------------------------------------------------- pure formats

def test_final_line_of_a_samples_epoch_matches_keras_231():
    line = format_progress_line(60000, 60000, 3.78, [("loss", 0.2914), ("accuracy", 0.9160)])
    assert line == ("60000/60000 [==============================] - 4s 63us/step"
                    " - loss: 0.2914 - accuracy: 0.9160")


def test_running_line_shows_eta_instead_of_elapsed_time():
    line = format_progress_line(59936, 60000, 3.70, [("loss", 0.3127), ("accuracy", 0.8)])
    assert line == ("59936/60000 [============================>.] - ETA: 0s"
                    " - loss: 0.3127 - accuracy: 0.8000")


def test_counter_is_right_aligned_to_the_digits_of_target():
    # 0.5 s for 32 samples -> 59968 left * 0.015625 s = 937 s = 15:37
    line = format_progress_line(32, 60000, 0.5, [("loss", 0.5)])
    assert line == "   32/60000 [..............................] - ETA: 15:37 - loss: 0.5000"


def test_bar_head_is_gt_while_running_and_eq_when_done():
    assert format_bar(1, 30) == " 1/30 [>.............................]"
    assert format_bar(15, 30) == "15/30 [==============>...............]"
    assert format_bar(30, 30) == "30/30 [==============================]"
    assert format_bar(7, 10, width=10) == " 7/10 [======>...]"
    assert format_bar(0, 10, width=10) == " 0/10 [..........]"


def test_bar_overflows_past_target_like_keras_231():
    assert format_bar(35, 30) == "35/30 [" + "=" * 35 + "]"


def test_unknown_target_prints_count_and_unknown():
    assert format_bar(12, None) == "     12/Unknown"
    assert format_progress_line(12, None, 4.0, [("loss", 0.5)]) == "     12/Unknown - 4s 333ms/step - loss: 0.5000"


def test_eta_formats():
    assert format_eta(3723.5) == "1:02:03"
    assert format_eta(65.9) == "1:05"
    assert format_eta(5.99) == "5s"
    assert format_eta(60.0) == "60s"
    assert format_eta(3600.0) == "60:00"
    assert format_eta(0.0) == "0s"


def test_eta_over_an_hour_in_a_line():
    # 1 s per step, 9999 steps left -> 2:46:39
    assert format_progress_line(1, 10000, 1.0) == "    1/10000 [..............................] - ETA: 2:46:39"


def test_time_per_unit_picks_s_ms_or_us():
    assert format_time_per_unit(1.0) == "1s/step"
    assert format_time_per_unit(2.0) == "2s/step"
    assert format_time_per_unit(0.0123) == "12ms/step"
    assert format_time_per_unit(0.001) == "1ms/step"
    assert format_time_per_unit(0.000999) == "999us/step"
    assert format_time_per_unit(6.3e-5) == "63us/step"
    assert format_time_per_unit(6.3e-5, unit_name="sample") == "63us/sample"


def test_values_verbose_1_compare_absolute_value():
    assert format_value(0.29144) == "0.2914"
    assert format_value(1234.56789) == "1234.5679"
    assert format_value(-0.5) == "-0.5000"
    assert format_value(0.0005) == "5.0000e-04"
    assert format_value(-0.0005) == "-5.0000e-04"
    assert format_value(0.001) == "1.0000e-03"
    assert format_value(0.0) == "0.0000e+00"


def test_values_verbose_2_compare_signed_value_so_negatives_print_in_e_notation():
    assert format_value(0.5, verbose=2) == "0.5000"
    assert format_value(-0.5, verbose=2) == "-5.0000e-01"
    assert format_value(-2.0, verbose=2) == "-2.0000e+00"
    assert format_value(0.0005, verbose=2) == "5.0000e-04"


def test_verbose_2_summary_line():
    line = format_summary_line(3.78, [("loss", 0.2914), ("accuracy", 0.9160), ("val_loss", 0.1407),
                                      ("val_accuracy", 0.9577)])
    assert line == " - 4s - loss: 0.2914 - accuracy: 0.9160 - val_loss: 0.1407 - val_accuracy: 0.9577"


# ------------------------------------------------------------------------------------------------ the writer

LINE_1_OF_3 = "1/3 [=========>....................] - ETA: 2s - loss: 1.0000"
LINE_2_OF_3 = "2/3 [===================>..........] - ETA: 1s - loss: 0.7500"
LINE_3_OF_3 = "3/3 [==============================] - 3s 1s/step - loss: 0.5000"


def _three_updates(clock):
    bar = Progbar(3)
    for step, loss in ((1, 1.0), (2, 0.5), (3, 0.0)):
        clock.t = float(step)
        bar.update(step, [("loss", loss)])


def test_off_a_terminal_every_update_is_a_new_line_without_backspaces(clock, capsys):
    _three_updates(clock)
    out = capsys.readouterr().out
    assert out == "\n" + LINE_1_OF_3 + "\n" + LINE_2_OF_3 + "\n" + LINE_3_OF_3 + "\n"
    assert "\b" not in out and "\r" not in out


def test_on_a_terminal_the_line_is_rewritten_with_backspaces_and_cr(clock, monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    _three_updates(clock)
    width = len(LINE_1_OF_3)
    assert tty.getvalue() == ("\r" + LINE_1_OF_3 + "\b" * width + "\r" + LINE_2_OF_3
                              + "\b" * width + "\r" + LINE_3_OF_3 + "\n")


def test_in_an_ipython_kernel_the_display_is_dynamic(monkeypatch):
    assert not is_dynamic_display(io.StringIO())
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert is_dynamic_display(io.StringIO())


def test_a_shorter_line_is_padded_with_spaces(clock, capsys):
    bar = Progbar(100)
    clock.t = 100.0
    bar.update(1)
    clock.t = 101.0
    bar.update(50)
    line_1 = "  1/100 [..............................] - ETA: 2:45:00"
    line_2 = " 50/100 [==============>...............] - ETA: 1:41"
    assert capsys.readouterr().out == "\n" + line_1 + "\n" + line_2 + "   "


def test_throttle_skips_updates_within_interval_but_never_the_final_one(clock, capsys):
    bar = Progbar(100, interval=0.05)
    drawn = []
    for t, current in ((0.0, 10), (0.01, 20), (0.04, 30), (0.06, 40), (0.08, 50), (0.09, 100)):
        clock.t = t
        drawn.append(bar.would_display(current))
        bar.update(current)
    assert drawn == [True, False, False, True, False, True]
    lines = capsys.readouterr().out.split("\n")
    assert [line[:7] for line in lines if line] == [" 10/100", " 40/100", "100/100"]


def test_force_draws_within_interval(clock, capsys):
    bar = Progbar(100)
    bar.update(10)
    bar.update(20, force=True)
    assert capsys.readouterr().out.count("\n") == 2


def test_non_stateful_values_are_averaged_weighted_by_progress_and_stateful_shown_as_given(clock, capsys):
    bar = Progbar(10, stateful_metrics=["acc"])
    clock.t = 1.0
    bar.update(2, [("loss", 1.0), ("acc", 0.5)])
    clock.t = 4.0
    bar.update(10, [("acc", 0.9), ("loss", 0.5)])
    # loss: (1.0 * 2 + 0.5 * 8) / 10 = 0.6; names keep the order in which they first came.
    assert capsys.readouterr().out == (
        "\n 2/10 [=====>........................] - ETA: 4s - loss: 1.0000 - acc: 0.5000"
        "\n10/10 [==============================] - 4s 400ms/step - loss: 0.6000 - acc: 0.9000\n")


def test_add_advances_current(clock, capsys):
    bar = Progbar(10, verbose=2)
    bar.add(2, [("loss", 1.0)])
    clock.t = 4.0
    bar.add(8, [("loss", 0.5)])
    assert bar._seen_so_far == 10
    assert capsys.readouterr().out == " - 4s - loss: 0.6000\n"


def test_verbose_2_prints_only_the_final_line(clock, capsys):
    bar = Progbar(100, verbose=2, stateful_metrics=["delta"])
    clock.t = 1.0
    bar.update(50, [("loss", 0.5), ("delta", -0.1)])
    assert capsys.readouterr().out == ""
    clock.t = 4.2
    bar.update(100, [("loss", 0.3), ("delta", -0.25)])
    assert capsys.readouterr().out == " - 4s - loss: 0.4000 - delta: -2.5000e-01\n"


def test_verbose_0_prints_nothing(clock, capsys):
    bar = Progbar(10, verbose=0)
    bar.update(5, [("loss", 1.0)])
    bar.update(10, [("loss", 1.0)])
    assert not bar.would_display(10)
    assert capsys.readouterr().out == ""


def test_unknown_target_draws_every_update_without_final_newline(clock, capsys):
    bar = Progbar(None)
    clock.t = 4.0
    bar.update(12, [("loss", 0.5)])
    assert capsys.readouterr().out == "\n     12/Unknown - 4s 333ms/step - loss: 0.5000"


def test_time_fn_argument_overrides_the_module_clock(capsys):
    fake = FakeClock(10.0)
    bar = Progbar(4, verbose=2, time_fn=fake)
    fake.t = 12.0
    bar.update(4, [("loss", 0.25)])
    assert capsys.readouterr().out == " - 2s - loss: 0.2500\n"
