"""One replica of the data-parallel tests (tests/test_distributed.py), run by torchrun:

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/_distributed_worker.py SCENARIO OUT_DIR

Each rank writes what it saw to ``OUT_DIR/rank<r>.pkl`` (a plain pickle: test data, not a library file).
The data and models are built by functions that the test also imports, to run the single-process references.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
import warnings

import numpy as np

from kerasish import optimizers
from kerasish.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from kerasish.layers import BatchNormalization, Conv2D, Dense, Flatten
from kerasish.models import Sequential
from kerasish.utils import Sequence

EPOCHS = 3
BATCH_SIZE = 16


# ---------------------------------------------------------------------------- shared with the test
def arrays():
    """81 training rows: 5 full global batches of 16 and a last one of 1 row (fewer than the 2 replicas)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(81, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 81)]
    sample_weight = rng.uniform(0.5, 1.5, 81).astype("float32")
    x_val = rng.normal(size=(21, 5)).astype("float32")
    y_val = np.eye(3, dtype="float32")[rng.integers(0, 3, 21)]
    return x, y, sample_weight, x_val, y_val


def mlp(weight_seed: int) -> Sequential:
    """No dropout, a loss averaged over the batch; initial weights from ``weight_seed`` (differs per rank, so
    that equal results prove DDP's broadcast of rank 0's weights)."""
    model = Sequential([Dense(8, activation="relu", input_shape=(5,)), Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(lr=0.1), "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(weight_seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in model.get_weights()])
    return model


class VaryingSequence(Sequence):
    """9 batches of 3, 4 or 5 rows: a pass ends with one batch for replica 0 and none for replica 1."""

    def __init__(self):
        x, y, _, _, _ = arrays()
        sizes = [3 + i % 3 for i in range(9)]
        starts = np.cumsum([0] + sizes)
        self.batches = [(x[a:b], y[a:b]) for a, b in zip(starts[:-1], starts[1:])]

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def images():
    rng = np.random.default_rng(1)
    return (rng.uniform(0, 255, size=(34, 6, 6, 1)).astype("uint8"),
            np.eye(2, dtype="float32")[rng.integers(0, 2, 34)])


def cnn(weight_seed: int) -> Sequential:
    model = Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(6, 6, 1)), BatchNormalization(),
                        Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizers.SGD(lr=0.05), "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(weight_seed)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype("float32") if w.ndim > 1 else w
                       for w in model.get_weights()])
    return model


# ---------------------------------------------------------------------------- callbacks used on every rank
class Recorder(Callback):
    """Epoch logs, and the batch logs every rank reads (a collective under torchrun) at every batch."""

    def __init__(self):
        super().__init__()
        self.epochs, self.batches = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((logs["size"], logs["loss"], logs["accuracy"]))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


class FailOnRankOne(Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.model is not None and os.environ.get("RANK") == "1" and batch == 2:
            raise RuntimeError("deliberate failure on rank 1")


# ---------------------------------------------------------------------------- scenarios
def scenario_train(rank: int, out_dir: str) -> dict:
    result = {}
    x, y, sample_weight, x_val, y_val = arrays()

    # fit on arrays: global batch 16 split 8/8, last batch 1/0; validation 21 rows in 2 batches (8/8, 3/2)
    model = mlp(weight_seed=100 + rank)
    recorder = Recorder()
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        history = model.fit(x, y, sample_weight=sample_weight, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=1,
                            validation_data=(x_val, y_val), shuffle=True,
                            callbacks=[recorder, CSVLogger(os.path.join(out_dir, f"log_rank{rank}.csv")),
                                       ModelCheckpoint(os.path.join(out_dir, f"model_rank{rank}.kerasish"))])
        result["evaluate"] = model.evaluate(x_val, y_val, batch_size=4, verbose=1)  # 6 batches, the last 1 row
        result["predict"] = model.predict(x, batch_size=BATCH_SIZE)
    result.update(stdout=stdout.getvalue(), seed=model._shuffle_seed, weights=model.get_weights(),
                  history=history.history, epochs=recorder.epochs, batches=recorder.batches)

    # EarlyStopping: decides from the (global) epoch logs, stops both ranks at the same epoch
    model = mlp(weight_seed=100 + rank)
    stopper = EarlyStopping(monitor="val_loss", patience=0, min_delta=100.0)  # no epoch beats the first by 100
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=5, validation_data=(x_val, y_val), verbose=0,
                        callbacks=[stopper])
    result["early_stopping"] = (stopper.stopped_epoch, len(history.history["loss"]), model.get_weights())

    # fit_generator on a Sequence: items go round-robin, the last step of each pass is empty on rank 1
    model = mlp(weight_seed=200 + rank)
    history = model.fit_generator(VaryingSequence(), epochs=2, shuffle=True, verbose=0)
    result["sequence"] = dict(seed=model._shuffle_seed, weights=model.get_weights(), history=history.history)

    # ImageDataGenerator iterator (seed=None: each process drew its own) and BatchNormalization
    from kerasish.preprocessing.image import ImageDataGenerator
    images_x, images_y = images()
    iterator = ImageDataGenerator(rotation_range=10, horizontal_flip=True).flow(images_x, images_y, batch_size=4)
    model = cnn(weight_seed=300 + rank)
    history = model.fit_generator(iterator, epochs=2, verbose=0)
    result["images"] = dict(stream_seed=iterator._stream_seed, weights=model.get_weights(),
                            history=history.history)

    # memory-mapped arrays: sharded like arrays
    path = os.path.join(out_dir, "x.npy")
    if rank == 0:
        np.save(path, x)
    import torch.distributed as dist
    dist.barrier()
    model = mlp(weight_seed=400 + rank)
    history = model.fit(np.load(path, mmap_mode="r"), y, batch_size=BATCH_SIZE, epochs=2, verbose=0)
    result["memmap"] = dict(seed=model._shuffle_seed, weights=model.get_weights(), history=history.history)

    # a plain generator cannot be split: warned about (rank 0), each rank reads its own
    def batches():
        while True:
            yield x[:10], y[:10]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp(weight_seed=0).fit_generator(batches(), steps_per_epoch=3, epochs=1, verbose=0)
    result["generator_warnings"] = [str(w.message) for w in caught if "Python generator" in str(w.message)]
    return result


def scenario_fail(rank: int, out_dir: str) -> dict:
    x, y, _, _, _ = arrays()
    mlp(weight_seed=0).fit(x, y, batch_size=BATCH_SIZE, epochs=50, verbose=0, callbacks=[FailOnRankOne()])
    return {}


def main() -> None:
    scenario, out_dir = sys.argv[1], sys.argv[2]
    rank = int(os.environ["RANK"])
    result = globals()[f"scenario_{scenario}"](rank, out_dir)
    with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)


if __name__ == "__main__":
    main()
