"""``BackupAndRestore``: tf.keras's fault-tolerant resume (r2.15 ``keras/callbacks.py`` and
``keras/distribute/worker_training_state.py``), with exact resumption.

A backup is one kerasish model file, ``<backup_dir>/backup.kerasish``, rewritten atomically at every epoch end
(or every ``save_freq`` batches). Besides the weights it holds the optimizer state (with ``iterations``), the
model's shuffle seed, the global random state (torch CPU and CUDA, NumPy, Python) and the epoch and batch it was
written after. When ``fit`` starts and a backup exists, all of that is put back and training continues where
the backup was written: with the same batches, the same dropout masks and the same optimizer steps as a run
that was never interrupted.
"""
from __future__ import annotations

import contextlib
import math
import os

from kerasish.callbacks.callback import Callback
from kerasish.distributed import is_main_process
from kerasish.utils.io_utils import check_writable

BACKUP_FILE = "backup.kerasish"


class BackupAndRestore(Callback):
    """Callback to back up and restore the training state.

    `BackupAndRestore` callback is intended to recover training from an interruption that has happened in the
    middle of a `Model.fit` execution, by backing up the training states in a temporary checkpoint file, at
    the end of each epoch. Each backup overwrites the previously written checkpoint file, so at any given time
    there is at most one such checkpoint file for backup/restoring purpose.

    If training restarts before completion, the training state (which includes the `Model` weights and epoch
    number) is restored to the most recently saved state at the beginning of a new `Model.fit` run. At the
    completion of a `Model.fit` run, the temporary checkpoint file is deleted.

    Note that the user is responsible to bring jobs back after the interruption, and that the model to be
    restored must be the same as the one backed up (same layers, same compile arguments, same `fit` data).

    ```python
    callback = BackupAndRestore(backup_dir="/tmp/backup")
    model.fit(x, y, epochs=10, callbacks=[callback])   # killed during epoch 4
    model.fit(x, y, epochs=10, callbacks=[callback])   # continues with epoch 4 (0-based: 3)
    ```

    Args:
        backup_dir: String, path of the directory where the backup file lives. It should be used by this
            training only (not by another `BackupAndRestore`, nor for `ModelCheckpoint` files).
        save_freq: `'epoch'` (back up at the end of each epoch) or an integer (back up every `save_freq`
            batches; training then resumes from the batch after the backup).
        delete_checkpoint: Boolean, default True: delete the backup once `fit` completes. Use False to keep it.
        save_before_preemption: accepted for tf.keras's signature; preemption checkpointing is a
            `tf.distribute` feature and is not supported (True raises).
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, save_before_preemption=False):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"BackupAndRestore: backup_dir must be a directory path; received {backup_dir!r}.")
        if save_before_preemption:
            raise ValueError("BackupAndRestore: save_before_preemption=True is tf.distribute's preemption "
                             "checkpointing, which kerasish does not have; use save_freq instead.")
        if not save_freq:
            # tf.keras r2.15 wording
            raise ValueError("Either `save_freq` or `save_before_preemption` must be set.")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"BackupAndRestore: Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                             "positive integer (a number of batches).")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._batches_count = 0
        self._current_epoch = 0
        if save_freq != "epoch":
            # Only then does the loop need batch hooks: bound on the instance, not the class.
            self.on_train_batch_end = self._on_train_batch_end_saving

    @property
    def backup_path(self) -> str:
        return os.path.join(self.backup_dir, BACKUP_FILE)

    def on_train_begin(self, logs=None):
        from kerasish import saving
        self._batches_count = 0
        check_writable(self.backup_path)  # backup_dir a file, a write-protected backup: say so before training
        if not os.path.exists(self.backup_path):
            return
        epoch, step = saving.restore_training_backup(self.model, self.backup_path)
        # tf.keras worker_training_state.maybe_load_initial_counters_from_ckpt: an epoch-end backup resumes
        # with the next epoch; a batch backup with the next batch, or the next epoch after its last batch.
        if step is None or step >= self._steps_per_epoch() - 1:
            resume = (epoch + 1, 0)
        else:
            resume = (epoch, step + 1)
        # Read by trainer.run_fit right after on_train_begin (the one hook that moves the start of fit).
        self.model._resume_from = resume

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch, None)

    def _on_train_batch_end_saving(self, batch, logs=None):
        self._batches_count += 1
        if self._batches_count >= self.save_freq:
            self._batches_count = 0
            self._backup(self._current_epoch, batch)

    def on_train_end(self, logs=None):
        # Reached only when fit completes: an interrupted fit keeps its backup for the next run.
        if self.delete_checkpoint and is_main_process():  # rank 0 wrote it; rank 0 removes it
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.backup_path)
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)  # only if empty: never anything the user put there

    def _backup(self, epoch, step):
        from kerasish import saving
        saving.write_training_backup(self.model, self.backup_path, epoch, step)

    def _steps_per_epoch(self) -> int:
        params = self.params or {}
        if params.get("steps"):
            return int(params["steps"])
        if params.get("samples") and params.get("batch_size"):
            return math.ceil(params["samples"] / params["batch_size"])
        return 1 << 62  # unknown length: a batch backup always resumes within its epoch


__all__ = ["BackupAndRestore"]
