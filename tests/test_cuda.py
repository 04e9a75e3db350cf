"""CUDA-only checks (skipped without a GPU): no host-device synchronisation inside training steps.

``torch.cuda.set_sync_debug_mode('error')`` raises on any operation that makes the host wait for the GPU
(``.item()``, ``.tolist()``, a blocking copy, ...). It is switched on after the first step (whose batch is
validated on purpose, and which builds the model and optimizer state) and off again only inside
``MetricsTracker.results`` and ``last_batch_loss``: the reads the loop makes at epoch ends. On the CPU,
tests/test_fit.py pins the same property by counting ``results()`` calls and single-value reads
(``.item()``, ``float(t)``, ``bool(t)``) during training.
"""
import numpy as np
import pytest
import torch

from kerasish import backend
from kerasish.callbacks import Callback
from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D
from kerasish.models import Sequential
from kerasish.preprocessing.image import ImageDataGenerator
from kerasish.training.compile_utils import MetricsTracker

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

AUGMENT = dict(rotation_range=30, zoom_range=0.2, fill_mode="nearest", shear_range=0.2, horizontal_flip=True,
               width_shift_range=0.1, height_shift_range=0.1)


@pytest.fixture
def on_cuda():
    backend.set_device("cuda")
    yield torch.device("cuda")
    backend.set_device(None)


class SyncsAreErrorsAfterFirstStep(Callback):
    def on_train_batch_end(self, batch, logs=None):
        torch.cuda.set_sync_debug_mode("error")

    def on_train_end(self, logs=None):
        torch.cuda.set_sync_debug_mode("default")


@pytest.fixture
def syncs_are_errors(monkeypatch):
    """A callback that turns syncs into errors from the end of the first step; epoch-end reads are allowed."""
    def allowing_syncs(read):
        def wrapper(*args, **kwargs):
            previous = torch.cuda.get_sync_debug_mode()
            torch.cuda.set_sync_debug_mode("default")
            try:
                return read(*args, **kwargs)
            finally:
                torch.cuda.set_sync_debug_mode(previous)
        return wrapper

    for name in ("results", "last_batch_loss"):
        monkeypatch.setattr(MetricsTracker, name, allowing_syncs(getattr(MetricsTracker, name)))
    yield SyncsAreErrorsAfterFirstStep()
    torch.cuda.set_sync_debug_mode("default")


def cnn():
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=(16, 16, 3)), MaxPooling2D(), Flatten(),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def images(n=64):
    rng = np.random.RandomState(0)
    return rng.rand(n, 16, 16, 3).astype("float32"), rng.randint(0, 10, n)


def test_fit_on_arrays_has_no_syncs_inside_steps(on_cuda, syncs_are_errors):
    x, y = images()
    model = cnn()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[syncs_are_errors])
    assert next(model.parameters()).device.type == "cuda"
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "wrap"])  # each grid_sample branch
def test_fit_generator_with_augmentation_has_no_syncs_inside_steps(on_cuda, syncs_are_errors, fill_mode):
    x, y = images()
    arguments = {**AUGMENT, "fill_mode": fill_mode}
    flow = ImageDataGenerator(**arguments, brightness_range=(0.8, 1.2), channel_shift_range=10.0).flow(
        (x * 255).astype("uint8"), y, batch_size=8, seed=0)
    history = cnn().fit_generator(flow, epochs=2, verbose=0, callbacks=[syncs_are_errors])
    assert len(history.history["accuracy"]) == 2


def test_augmented_batches_are_made_on_the_gpu(on_cuda):
    x, y = images(8)
    bx, by = ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=8, seed=0).batch_tensors(0, on_cuda)
    assert bx.device.type == "cuda" and by.device.type == "cuda"
    assert bx.is_contiguous() and bx.shape == (8, 16, 16, 3)


def test_seeded_dropout_draws_from_its_own_generator_on_the_gpu_without_syncs(on_cuda, syncs_are_errors):
    from kerasish.layers import Dropout
    first, second = Dropout(0.5, seed=3).to(on_cuda).train(), Dropout(0.5, seed=3).to(on_cuda).train()
    ones = torch.ones(8, 10, device=on_cuda)
    before = torch.cuda.get_rng_state()
    torch.testing.assert_close(first(ones), second(ones))
    assert torch.equal(torch.cuda.get_rng_state(), before)  # the global CUDA generator is left alone
    assert list(first._generators) == [str(ones.device)]
    model = Sequential([Dense(16, activation="relu", input_shape=(4,)), Dropout(0.5, seed=1),
                        Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.RandomState(0)
    model.fit(rng.rand(32, 4).astype("float32"), rng.randint(0, 2, 32), batch_size=8, epochs=2, verbose=0,
              callbacks=[syncs_are_errors])
