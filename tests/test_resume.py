"""Exact resume: BackupAndRestore (tf.keras r2.15 semantics) and load_model + fit(initial_epoch=k) continue to
the weights of an uninterrupted run, dropout and Adam's state included; Ctrl-C leaves a usable model."""
import importlib.util
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from kerasish import saving
from kerasish.callbacks import BackupAndRestore, Callback
from kerasish.callbacks.backup_and_restore import BACKUP_FILE
from kerasish.layers import Dense, Dropout
from kerasish.models import Sequential, load_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The training script of the kill-and-resume test: the same file runs killed (in a subprocess) and again.
TRAIN_SCRIPT = textwrap.dedent('''
    import os
    import sys

    import numpy as np
    import torch

    from kerasish.callbacks import BackupAndRestore, Callback
    from kerasish.layers import Dense, Dropout
    from kerasish.models import Sequential


    class KillAt(Callback):
        """Ends the process abruptly (no cleanup, no exception) at one batch: a crash or a preemption."""

        def __init__(self, epoch, batch):
            super().__init__()
            self.kill_epoch, self.kill_batch, self.epoch = epoch, batch, None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (self.kill_epoch, self.kill_batch):
                os._exit(1)


    def train(backup_dir=None, kill_epoch=None, epochs=6):
        torch.set_num_threads(1)  # the killed, the resumed and the reference run compute alike
        torch.manual_seed(0)
        np.random.seed(0)
        data = np.random.RandomState(1)
        x = data.rand(96, 8).astype("float32")
        y = np.eye(3, dtype="float32")[data.randint(0, 3, 96)]
        model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dropout(0.25),
                            Dense(3, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        callbacks = [] if backup_dir is None else [BackupAndRestore(backup_dir)]
        if kill_epoch is not None:
            callbacks.append(KillAt(kill_epoch, 2))
        history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, callbacks=callbacks)
        return model, history


    if __name__ == "__main__":
        train(sys.argv[1], kill_epoch=int(sys.argv[2]))
''')


def load_script(path):
    spec = importlib.util.spec_from_file_location("train_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same_weights(a, b):
    assert len(a.get_weights()) == len(b.get_weights())
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_kill_and_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(TRAIN_SCRIPT)
    backup_dir = tmp_path / "backup"
    kill_epoch = random.Random(2024).randint(1, 4)  # a seeded "random" epoch, killed at its third batch
    killed = subprocess.run([sys.executable, str(script), str(backup_dir), str(kill_epoch)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 1, killed.stderr
    assert os.listdir(backup_dir) == [BACKUP_FILE]  # the last epoch-end backup, and nothing half-written

    train = load_script(script).train
    resumed, history = train(str(backup_dir))  # the same script again, without the kill
    assert history.epoch == list(range(kill_epoch, 6))  # continued with the epoch the kill interrupted
    assert not backup_dir.exists()  # deleted once fit completed
    uninterrupted, _ = train(None)
    assert_same_weights(resumed, uninterrupted)
    assert resumed.optimizer.iterations == uninterrupted.optimizer.iterations == 36


class RaiseAt(Callback):
    def __init__(self, epoch, batch, error=RuntimeError):
        super().__init__()
        self.at, self.error, self.epoch, self.weights_before_raise = (epoch, batch), error, None, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.weights_before_raise = self.model.get_weights()
            raise self.error("interrupted")


def dropout_model(seed=0, dropout_seed=None):
    torch.manual_seed(seed)
    model = Sequential([Dense(12, activation="relu", input_shape=(5,)), Dropout(0.3, seed=dropout_seed),
                        Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    return model


def data():
    rng = np.random.RandomState(3)
    return rng.rand(60, 5).astype("float32"), rng.randint(0, 2, 60)


def uninterrupted(epochs=5, dropout_seed=None):
    x, y = data()
    model = dropout_model(dropout_seed=dropout_seed)
    model.fit(x, y, batch_size=10, epochs=epochs, verbose=0)
    return model


@pytest.mark.parametrize("save_freq, stop, dropout_seed", [("epoch", (3, 1), None), (4, (2, 3), None),
                                                          (4, (2, 3), 5)],
                         ids=["epoch", "every-4-batches", "seeded-dropout"])
def test_backup_and_restore_resumes_exactly_in_process(tmp_path, save_freq, stop, dropout_seed):
    # A seeded Dropout draws from its own generator, which the backup records with the global random state.
    x, y = data()
    backup_dir = tmp_path / "backup"
    model = dropout_model(dropout_seed=dropout_seed)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, batch_size=10, epochs=5, verbose=0,
                  callbacks=[BackupAndRestore(backup_dir, save_freq=save_freq), RaiseAt(*stop)])
    assert os.listdir(backup_dir) == [BACKUP_FILE]  # an interrupted fit keeps its backup
    torch.manual_seed(123)  # the global random state is whatever it is: the backup puts its own back
    fresh = dropout_model(seed=7, dropout_seed=dropout_seed)  # other initial weights, replaced by the backup
    history = fresh.fit(x, y, batch_size=10, epochs=5, verbose=0,
                        callbacks=[BackupAndRestore(backup_dir, save_freq)])
    # 6 batches an epoch. Epoch backups: the last was after epoch 2, so epoch 3 is redone. Every 4 batches:
    # the last backup was after global batch 16 (epoch 2, batch 3), so epoch 2 resumes at its batch 4.
    assert history.epoch == ([3, 4] if save_freq == "epoch" else [2, 3, 4])
    assert_same_weights(fresh, uninterrupted(dropout_seed=dropout_seed))
    assert not backup_dir.exists()  # deleted at the end of the completed fit, with its now empty directory


def test_backup_is_written_every_epoch_and_kept_with_delete_checkpoint_false(tmp_path):
    x, y = data()
    written = []

    class Watch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            written.append(os.path.getmtime(tmp_path / BACKUP_FILE))

    model = dropout_model()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0,
              callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False), Watch()])
    assert len(written) == 2 and os.listdir(tmp_path) == [BACKUP_FILE]
    again = dropout_model().fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert again.epoch == []  # the backup says both epochs are done: nothing left to run (tf.keras)


def test_a_backup_of_another_model_is_a_clear_error(tmp_path):
    x, y = data()
    dropout_model().fit(x, y, batch_size=10, epochs=1, verbose=0,
                        callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = Sequential([Dense(3, input_shape=(5,)), Dense(2, activation="softmax")])
    other.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="does not fit this model.*delete it to start afresh"):
        other.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


@pytest.mark.parametrize("kwargs, message", [
    ({"save_freq": 0}, "Either `save_freq` or `save_before_preemption` must be set."),
    ({"save_freq": "batch"}, "Unrecognized save_freq"),
    ({"save_before_preemption": True}, "not have; use save_freq"),
])
def test_backup_and_restore_arguments_are_checked(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        BackupAndRestore(tmp_path, **kwargs)
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")


@pytest.mark.parametrize("dropout_seed", [None, 5], ids=["global-generator", "seeded-dropout"])
def test_load_model_then_initial_epoch_continues_exactly(tmp_path, dropout_seed):
    x, y = data()
    model = dropout_model(dropout_seed=dropout_seed)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    torch.manual_seed(99)
    resumed = load_model(tmp_path / "m.h5")  # a seeded Dropout gets its generator's state back with the model
    saving.restore_rng_state(tmp_path / "m.h5")  # load_model itself leaves the global random state alone
    resumed.fit(x, y, batch_size=10, epochs=5, initial_epoch=2, verbose=0)
    assert_same_weights(resumed, uninterrupted(dropout_seed=dropout_seed))


def test_load_model_restores_the_shuffle_order_and_leaves_global_randomness_alone(tmp_path):
    x, y = data()
    model = dropout_model()
    model.layers[1].rate = 0.0  # no dropout: only the data order and the optimizer state matter
    model.fit(x, y, batch_size=10, epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    torch.manual_seed(5)
    before = torch.get_rng_state()
    resumed = load_model(tmp_path / "m.h5")
    assert torch.equal(torch.get_rng_state(), before)
    resumed.fit(x, y, batch_size=10, epochs=4, initial_epoch=2, verbose=0)
    model.fit(x, y, batch_size=10, epochs=4, initial_epoch=2, verbose=0)
    assert_same_weights(resumed, model)


def test_keyboard_interrupt_leaves_the_model_at_its_last_step_usable_and_savable(tmp_path):
    x, y = data()
    model = dropout_model()
    interrupt = RaiseAt(1, 3, error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[interrupt])
    for got, expected in zip(model.get_weights(), interrupt.weights_before_raise):
        np.testing.assert_array_equal(got, expected)  # the state after the last completed step
    assert not model.training
    assert model.optimizer.iterations == 6 + 4
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)  # and it trains on


def test_a_truncated_backup_is_reported_as_such(tmp_path):
    x, y = data()
    dropout_model().fit(x, y, batch_size=10, epochs=1, verbose=0,
                        callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False)])
    backup = tmp_path / BACKUP_FILE
    backup.write_bytes(backup.read_bytes()[:-100])
    with pytest.raises(saving.UnreadableFileError, match="truncated or corrupt"):
        dropout_model().fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
