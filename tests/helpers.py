"""Small models, data, callbacks and checks shared by the tests."""
import multiprocessing
import threading

import numpy as np
import torch

from kerasish.callbacks import Callback
from kerasish.layers import Dense
from kerasish.models import Sequential
from kerasish.optimizers import SGD
from kerasish.utils import Sequence


def tiny_model(lr=0.1, metrics=("acc",), optimizer=None):
    """Dense(2, softmax) on 4 features, categorical cross-entropy."""
    model = Sequential([Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=optimizer if optimizer is not None else SGD(lr=lr), loss="categorical_crossentropy",
                  metrics=list(metrics))
    return model


def tiny_data(n=20, seed=0):
    """``n`` samples of 4 features with one-hot labels of 2 classes."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    y = np.eye(2, dtype="float32")[rng.randint(0, 2, size=n)]
    return x, y


class ScriptedLogs(Callback):
    """Writes ``values[epoch]`` under ``name`` into the epoch logs (callbacks after it see the scripted value)
    and records the model's weights at each epoch end."""

    def __init__(self, name, values):
        super().__init__()
        self.name, self.values = name, list(values)
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.name] = self.values[epoch]
        self.weights.append(self.model.get_weights())


class InputRecorder(torch.nn.Module):
    """Passes its input through and keeps a copy of every batch it sees in training mode (wrap it in a
    ``TorchModule`` layer). ``ids``: each batch's first feature as ints, for data whose first feature is the
    sample's number."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x):
        if self.training:
            self.inputs.append(x.detach().cpu().clone())
        return x

    @property
    def ids(self) -> list[list[int]]:
        return [batch[:, 0].numpy().astype(int).tolist() for batch in self.inputs]


class InterruptAtBatch(Callback):
    """Raises KeyboardInterrupt, as Ctrl-C would, at the end of training batch ``batch``."""

    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            raise KeyboardInterrupt


def assert_loaders_stopped(threads_before: int) -> None:
    """No loader thread or worker process is left (they get up to 2.5 s to finish stopping)."""
    for _ in range(50):
        if threading.active_count() <= threads_before and not multiprocessing.active_children():
            break
        threading.Event().wait(0.05)
    assert threading.active_count() <= threads_before
    assert multiprocessing.active_children() == []


class ListSequence(Sequence):
    """A Sequence over a list of ready batches: ``sequence[i]`` is ``batches[i]``."""

    def __init__(self, batches):
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]
