"""Unmodified Keras 2 scripts, written as Keras 2 users wrote them (``import keras``, Keras 2 module paths,
``keras.datasets``, ``.h5`` files, ``KerasClassifier`` under ``GridSearchCV``), run through ``python -m kerasish``
in a subprocess, on dataset files this test writes into a temporary ``KERAS_HOME`` (no download).

The dataset is Fashion-MNIST's four idx files at Keras's cache path: Keras 2.3.1's ``mnist.load_data`` checks
``mnist.npz`` against the real file's hash (a file made here would be fetched again), while its
``fashion_mnist.load_data`` reads whatever files lie in ``datasets/fashion-mnist``."""
from __future__ import annotations

import gzip
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent


def run_script(tmp_path: pathlib.Path, source: str, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERAS_HOME": str(tmp_path / "keras_home")}
    return subprocess.run([sys.executable, "-m", "kerasish", str(script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def write_fashion_mnist(home: pathlib.Path, train: int = 600, test: int = 200) -> None:
    """Fashion-MNIST's idx files (gzip; 8-byte label header, 16-byte image header) holding a learnable task:
    class k lights up the k-th 28-pixel row band of an otherwise noisy image."""
    rng = np.random.RandomState(0)
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = rng.randint(0, 10, size=count).astype(np.uint8)
        images = rng.randint(0, 60, size=(count, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label:2 * label + 3] = 255
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 8 + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 16 + images.tobytes())


MLP_ON_DATASET = """
    from __future__ import print_function
    import json
    import sys

    import keras
    from keras.datasets import fashion_mnist
    from keras.models import Sequential, load_model
    from keras.layers.core import Dense, Dropout
    from keras.optimizers import RMSprop
    from keras.utils import np_utils

    epochs = int(sys.argv[1])
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = x_train.reshape(len(x_train), 784).astype('float32') / 255
    x_test = x_test.reshape(len(x_test), 784).astype('float32') / 255
    y_train = np_utils.to_categorical(y_train, 10)
    y_test = np_utils.to_categorical(y_test, 10)

    model = Sequential()
    model.add(Dense(64, activation='relu', input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=2, validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print('Test loss:', score[0])
    print('Test accuracy:', score[1])
    model.save('mlp.h5')
    again = load_model('mlp.h5')
    same = bool(abs(again.predict(x_test) - model.predict(x_test)).max() < 1e-6)
    print(json.dumps({"accuracy": float(score[1]), "epochs": len(history.history['loss']), "reloaded_same": same,
                      "keys": sorted(history.history), "version": keras.__version__}))
"""


def test_a_keras_mlp_script_trains_on_keras_datasets_files_and_saves_h5(tmp_path):
    write_fashion_mnist(tmp_path / "keras_home")
    result = run_script(tmp_path, MLP_ON_DATASET, "4")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["epochs"] == 4 and report["accuracy"] > 0.9 and report["reloaded_same"]
    assert report["keys"] == ["accuracy", "loss", "val_accuracy", "val_loss"] and report["version"] == "2.3.1"
    assert "Train on 600 samples, validate on 200 samples" in result.stdout
    assert "Epoch 4/4" in result.stdout and "Test accuracy:" in result.stdout
    assert (tmp_path / "mlp.h5").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # a Keras 2 HDF5 file


FUNCTIONAL_AND_GRID_SEARCH = """
    import json

    import numpy as np
    from keras.layers import Input, Dense, concatenate
    from keras.models import Model
    from keras.wrappers.scikit_learn import KerasClassifier
    from sklearn.model_selection import GridSearchCV

    rng = np.random.RandomState(0)
    x = rng.rand(120, 4).astype('float32')
    labels = np.where(x[:, 0] + x[:, 1] > 1.0, 'big', 'small')

    def build(units=4):
        inputs = Input(shape=(4,))
        left, right = Dense(units, activation='relu')(inputs), Dense(units, activation='tanh')(inputs)
        outputs = Dense(2, activation='softmax')(concatenate([left, right]))
        model = Model(inputs=inputs, outputs=outputs)
        model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
        return model

    classifier = KerasClassifier(build_fn=build, epochs=100, batch_size=16, verbose=0)
    grid = GridSearchCV(classifier, {'units': [2, 8]}, cv=2)
    grid.fit(x, labels)
    predicted = grid.predict(x)
    print(json.dumps({"best": grid.best_params_, "score": float(grid.best_score_),
                      "labels": sorted(set(predicted.ravel().tolist())),
                      "train_accuracy": float((predicted.ravel() == labels).mean())}))
"""


def test_a_functional_model_under_grid_search_through_keras_wrappers(tmp_path):
    result = run_script(tmp_path, FUNCTIONAL_AND_GRID_SEARCH)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["best"]["units"] in (2, 8)
    assert report["labels"] == ["big", "small"]  # the user's labels come back
    assert report["train_accuracy"] > 0.8 and 0.0 <= report["score"] <= 1.0
