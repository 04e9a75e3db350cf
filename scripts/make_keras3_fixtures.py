"""Makes the Keras 3 ``.keras`` fixtures of tests/test_saving_keras3.py with real Keras 3, run by hand, never by tests.

    python3 -m venv /tmp/k3 && /tmp/k3/bin/pip install keras h5py numpy scipy jax
    KERAS_BACKEND=numpy /tmp/k3/bin/python scripts/make_keras3_fixtures.py

(Keras 3.15's numpy backend imports scipy and jax.) Each model is tiny and gets seeded random weights (the
initializers are not what the test checks); it is written to tests/fixtures/keras3/<name>.keras with
``model.save``, beside <name>.npz holding the inputs (``x`` or ``x0``, ``x1``) and Keras 3's predictions
(``y_pred``). ``mlp`` is compiled (Adam, mse, mae), so its file has a compile_config and optimizer variables.
"""
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "numpy")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras3"
rng = np.random.RandomState(0)


def seeded_weights(model):
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype) if w.dtype.kind == "f" else w
                       for w in model.get_weights()])
    for layer in model.layers:  # positive moving variances
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, variance = layer.moving_mean.numpy(), layer.moving_variance.numpy()
            layer.moving_variance.assign(np.abs(variance) + 0.5)
            layer.moving_mean.assign(mean)


def save(name, model, inputs):
    seeded_weights(model)
    model.save(OUT / f"{name}.keras")
    arrays = {"y_pred": model.predict(inputs, verbose=0)}
    if isinstance(inputs, list):
        arrays.update({f"x{i}": x for i, x in enumerate(inputs)})
    else:
        arrays["x"] = inputs
    np.savez(OUT / f"{name}.npz", **arrays)


def mlp():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    save("mlp", model, rng.rand(5, 4).astype("float32"))


def cnn_bn():
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3, padding="same"),
                              keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(2)])
    save("cnn_bn", model, rng.rand(4, 6, 6, 2).astype("float32"))


def functional_two_inputs():
    a = keras.Input((5,), name="a")
    b = keras.Input((3,), name="b")
    merged = keras.layers.concatenate([keras.layers.Dense(4, activation="tanh", name="dense_a")(a),
                                       keras.layers.Dense(2, name="dense_b")(b)])
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(keras.layers.Add()([merged, merged]))
    model = keras.Model([a, b], out)
    save("functional_two_inputs", model, [rng.rand(4, 5).astype("float32"), rng.rand(4, 3).astype("float32")])


def embedding_lstm():
    model = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 3),
                              keras.layers.LSTM(4, return_sequences=True), keras.layers.SimpleRNN(3),
                              keras.layers.Dense(2)])
    save("embedding_lstm", model, rng.randint(0, 10, size=(3, 5)).astype("int32"))


def bidirectional_gru():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.Bidirectional(keras.layers.GRU(3)),
                              keras.layers.Dense(2)])
    save("bidirectional_gru", model, rng.rand(3, 5, 3).astype("float32"))


def lambda_layer():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Lambda(lambda t: t * 2.0, name="double")])
    save("lambda", model, rng.rand(2, 3).astype("float32"))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (mlp, cnn_bn, functional_two_inputs, embedding_lstm, bidirectional_gru, lambda_layer):
        make()
    print("Keras", keras.__version__, "fixtures written to", OUT)
