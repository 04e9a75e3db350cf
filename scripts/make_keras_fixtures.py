"""Makes the Keras 2 HDF5 fixtures of tests/test_saving_h5.py with real Keras (tf-keras), run by hand, never by tests.

    python3 -m venv /tmp/tfk && /tmp/tfk/bin/pip install tensorflow-cpu tf-keras h5py numpy
    /tmp/tfk/bin/python scripts/make_keras_fixtures.py

Each model is tiny (a few KB) and is written to tests/fixtures/keras_h5/<name>.h5 with model.save (Keras 2 HDF5),
beside <name>.npz holding the inputs (``x`` or ``x0``, ``x1``...) and the predictions tf-keras made (``y_pred``).
The checkpoints (``checkpoint_adam``: Keras 2 optimizer, ``checkpoint_adam_v3``: tf-keras 2.11+ optimizer) were
trained a few steps with Adam, so they hold ``optimizer_weights``; their .npz also records one more training batch
(``train_x``, ``train_y``) and every weight after tf-keras trained on it (``after_step_<i>``), the reference for
continuing training. ``mlp_weights.h5`` is ``save_weights`` output of the ``mlp`` model.
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_h5"
rng = np.random.RandomState(0)


def save(name, model, inputs, extra=None):
    model.save(OUT / f"{name}.h5", save_format="h5")
    arrays = {"y_pred": model.predict(inputs, verbose=0)}
    if isinstance(inputs, list):
        arrays.update({f"x{i}": x for i, x in enumerate(inputs)})
    else:
        arrays["x"] = inputs
    arrays.update(extra or {})
    np.savez(OUT / f"{name}.npz", **arrays)


def mlp():
    model = keras.Sequential([keras.layers.Dense(6, activation="relu", input_shape=(4,)),
                              keras.layers.Dropout(0.5),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x = rng.rand(5, 4).astype("float32")
    save("mlp", model, x)
    model.save_weights(OUT / "mlp_weights.h5", save_format="h5")


def cnn_bn():
    model = keras.Sequential([keras.layers.Conv2D(3, 3, padding="same", input_shape=(6, 6, 2)),
                              keras.layers.BatchNormalization(),
                              keras.layers.Activation("relu"),
                              keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.legacy.RMSprop(0.01), loss="mse")
    x = rng.rand(8, 6, 6, 2).astype("float32")
    model.fit(x, rng.rand(8, 2).astype("float32"), epochs=2, batch_size=4, verbose=0)  # moving statistics move
    save("cnn_bn", model, x[:4])


def functional_two_inputs():
    a = keras.Input((5,), name="a")
    b = keras.Input((3,), name="b")
    merged = keras.layers.concatenate([keras.layers.Dense(4, activation="tanh", name="dense_a")(a),
                                       keras.layers.Dense(2, name="dense_b")(b)])
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(merged)
    model = keras.Model([a, b], out)
    model.compile(optimizer=keras.optimizers.legacy.SGD(0.1, momentum=0.9), loss="binary_crossentropy")
    xs = [rng.rand(4, 5).astype("float32"), rng.rand(4, 3).astype("float32")]
    model.fit(xs, (rng.rand(4, 1) > 0.5).astype("float32"), epochs=2, verbose=0)
    save("functional_two_inputs", model, xs)


def rnn():
    model = keras.Sequential([keras.layers.Embedding(10, 3, input_length=5),
                              keras.layers.LSTM(4, return_sequences=True),
                              keras.layers.GRU(3),
                              keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.randint(0, 10, size=(3, 5)).astype("int32")
    save("rnn", model, x)


def checkpoint(name, optimizer):
    """A model trained a few steps with Adam; then one more batch trained by tf-keras, as the reference."""
    model = keras.Sequential([keras.layers.Dense(4, activation="tanh", input_shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    x, y = rng.rand(16, 3).astype("float32"), rng.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    train_x, train_y = rng.rand(8, 3).astype("float32"), rng.rand(8, 2).astype("float32")
    save(name, model, x[:4], {"train_x": train_x, "train_y": train_y})
    model.train_on_batch(train_x, train_y)
    after = {f"after_step_{i}": w for i, w in enumerate(model.get_weights())}
    with np.load(OUT / f"{name}.npz") as recorded:
        np.savez(OUT / f"{name}.npz", **dict(recorded), **after)


def lambda_layer():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.Lambda(lambda t: t * 2.0)])
    save("lambda", model, rng.rand(2, 3).astype("float32"))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    tf.random.set_seed(0)
    keras.utils.set_random_seed(0)
    mlp()
    cnn_bn()
    functional_two_inputs()
    rnn()
    checkpoint("checkpoint_adam", keras.optimizers.legacy.Adam(0.01))
    checkpoint("checkpoint_adam_v3", keras.optimizers.Adam(0.01))
    lambda_layer()
    print(f"tf-keras {keras.__version__}: fixtures written to {OUT}")
    for path in sorted(OUT.iterdir()):
        print(f"  {path.name}: {path.stat().st_size} bytes")
