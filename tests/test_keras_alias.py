"""``python -m kerasish script.py`` and ``kerasish.install_as_keras()``: unmodified Keras 2 scripts (written here,
``import keras`` and Keras 2 module paths) run on kerasish in a subprocess, as if run directly, with their exit
status and tracebacks; a real Keras is shadowed in that process only; importing kerasish installs nothing.

Every case runs in its own interpreter, so the alias never reaches this test process."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: pathlib.Path, extra_path: pathlib.Path | None = None) -> subprocess.CompletedProcess:
    """``python *args`` with this checkout's kerasish importable (and ``extra_path`` first on the path)."""
    paths = ([str(extra_path)] if extra_path else []) + [str(REPO)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def write(path: pathlib.Path, source: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def dense_forward(x, weights, activations):
    """NumPy forward pass of stacked Dense layers from Keras-layout weights (kernel (in, out), bias)."""
    for (kernel, bias), activation in zip(zip(weights[::2], weights[1::2]), activations):
        x = x @ kernel + bias
        x = np.maximum(x, 0) if activation == "relu" else np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    return x


MLP_SCRIPT = """
    import json
    import sys

    import numpy as np
    import keras
    import keras.layers.core
    import kerasish.layers.core
    from keras.layers import Dense, Dropout
    from keras.models import Sequential
    from keras.optimizers import SGD
    from keras.utils import to_categorical

    def main():
        rng = np.random.RandomState(0)
        x = rng.rand(64, 4).astype("float32")
        y = to_categorical((x[:, 0] > x[:, 1]).astype(int), 2)
        model = Sequential()
        model.add(Dense(8, activation="relu", input_shape=(4,)))
        model.add(Dropout(0.1))
        model.add(Dense(2, activation="softmax"))
        model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.1), metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=int(sys.argv[2]), verbose=0)
        print(json.dumps({
            "name": __name__, "argv": sys.argv, "path0": sys.path[0], "version": keras.__version__,
            "history": sorted(history.history), "epochs": len(history.history["loss"]),
            "x": x[:5].tolist(), "predictions": model.predict(x[:5]).tolist(),
            "weights": [w.tolist() for w in model.get_weights()],
            "same_modules": keras.layers.core is kerasish.layers.core and sys.modules["keras"] is kerasish,
            "isinstance": isinstance(model.layers[0], kerasish.layers.core.Dense),
        }))

    if __name__ == "__main__":
        main()
"""


def test_sequential_mlp_script_runs_unchanged_as_main_with_its_argv(tmp_path):
    script = write(tmp_path / "project" / "train.py", MLP_SCRIPT)
    result = run(["-m", "kerasish", "project/train.py", "--epochs", "2"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = last_json(result.stdout)
    assert out["name"] == "__main__"
    assert out["argv"] == ["project/train.py", "--epochs", "2"]
    assert out["path0"] == str(script.parent.resolve())  # as `python project/train.py` sets it
    assert out["version"] == "2.3.1"
    assert out["history"] == ["accuracy", "loss"] and out["epochs"] == 2
    assert out["same_modules"] and out["isinstance"]
    weights = [np.array(w, dtype="float32") for w in out["weights"]]
    expected = dense_forward(np.array(out["x"], dtype="float32"), weights, ["relu", "softmax"])
    np.testing.assert_allclose(out["predictions"], expected, rtol=1e-5, atol=1e-6)


FUNCTIONAL_MODULE = """
    import json
    import sys

    import numpy as np
    import keras
    from keras import backend as K
    from keras.engine.topology import Layer
    from keras.layers import Dense, Input, concatenate
    from keras.models import Model

    class Scale(Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")
            super(Scale, self).build(input_shape)

        def call(self, inputs):
            return inputs * self.scale

    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    out = Dense(2, activation="softmax", name="out")(concatenate([Scale(name="scale")(a), b]))
    model = Model(inputs=[a, b], outputs=out)
    model.compile("adam", "categorical_crossentropy")
    xa, xb = np.ones((4, 3), "float32"), np.full((4, 2), 0.5, "float32")
    model.fit([xa, xb], np.eye(2)[[0, 1, 0, 1]], epochs=1, verbose=0)
    print(json.dumps({
        "name": __name__, "argv0": sys.argv[0], "args": sys.argv[1:],
        "is_network": isinstance(model, keras.engine.network.Network),
        "is_training_model": isinstance(model, keras.engine.training.Model),
        "layer_base": Layer is keras.layers.Layer and Layer is sys.modules["kerasish.layers.base"].Layer,
        "k": K.backend(),
        "inputs": np.concatenate([xa, xb], axis=1)[:1].tolist(),
        "scale": model.get_layer("scale").get_weights()[0].tolist(),
        "dense": [w.tolist() for w in model.get_layer("out").get_weights()],
        "prediction": model.predict([xa, xb])[:1].tolist(),
    }))
"""


def test_functional_model_module_with_a_custom_layer_runs_with_dash_m(tmp_path):
    module = write(tmp_path / "apps" / "functional.py", FUNCTIONAL_MODULE)
    (tmp_path / "apps" / "__init__.py").write_text("")
    result = run(["-m", "kerasish", "-m", "apps.functional", "x"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = last_json(result.stdout)
    assert out["name"] == "__main__" and out["argv0"] == str(module) and out["args"] == ["x"]
    assert out["is_network"] and out["is_training_model"] and out["layer_base"]
    assert out["k"] == "torch"
    scale = np.array(out["scale"], "float32")
    scaled = np.array(out["inputs"], "float32") * np.concatenate([scale, np.ones(2, "float32")])
    kernel, bias = (np.array(w, "float32") for w in out["dense"])
    expected = dense_forward(scaled, [kernel, bias], ["softmax"])
    np.testing.assert_allclose(out["prediction"], expected, rtol=1e-5, atol=1e-6)


def test_sys_exit_code_passes_through(tmp_path):
    write(tmp_path / "quit.py", "import sys\nimport keras\nprint('before', keras.__version__)\nsys.exit(3)\n")
    result = run(["-m", "kerasish", "quit.py"], cwd=tmp_path)
    assert result.returncode == 3 and result.stdout == "before 2.3.1\n" and result.stderr == ""


def test_uncaught_exception_exits_1_with_the_scripts_own_traceback(tmp_path):
    write(tmp_path / "broken.py", """
        import keras

        def load_data(path):
            raise FileNotFoundError("no data at " + path)

        load_data("missing.npz")
    """)
    result = run(["-m", "kerasish", "broken.py"], cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{tmp_path / "broken.py"}", line 7, in <module>')
    assert any(line.strip().startswith(f'File "{tmp_path / "broken.py"}", line 5, in load_data') for line in lines)
    assert lines[-1] == "FileNotFoundError: no data at missing.npz"
    assert "runpy" not in result.stderr and "__main__.py" not in result.stderr


def test_install_as_keras_inside_a_program_and_plain_import_kerasish_installs_nothing(tmp_path):
    write(tmp_path / "program.py", """
        import json
        import sys

        import kerasish
        report = {"finder_after_import": any(type(f).__name__ == "KerasAliasFinder" for f in sys.meta_path),
                  "keras_after_import": "keras" in sys.modules}
        try:
            import keras
        except ModuleNotFoundError as err:
            report["before_install"] = str(err)
        kerasish.install_as_keras()
        kerasish.install_as_keras()  # a second call changes nothing
        import keras
        from keras.engine.training import Model
        import keras.layers.recurrent as recurrent
        report["finders"] = sum(type(f).__name__ == "KerasAliasFinder" for f in sys.meta_path)
        report["same"] = keras is kerasish and Model is kerasish.models.Model and recurrent.LSTM is kerasish.layers.LSTM
        report["spec_kept"] = kerasish.layers.recurrent.__spec__.name
        try:
            import keras.no_such_module
        except ModuleNotFoundError as err:
            report["missing"] = [str(err), err.name]
        print(json.dumps(report))
    """)
    result = run(["program.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = last_json(result.stdout)
    assert out["finder_after_import"] is False and out["keras_after_import"] is False
    assert out["before_install"] == "No module named 'keras'"  # nothing answers `import keras` until asked
    assert out["finders"] == 1 and out["same"] and out["spec_kept"] == "kerasish.layers.recurrent"
    message, name = out["missing"]
    assert name == "keras.no_such_module"
    assert message.startswith("No module named 'keras.no_such_module': kerasish has no such module")
    assert result.stderr == ""  # no Keras installed here: nothing shadowed, no warning


def test_a_real_keras_is_shadowed_in_this_process_only_with_one_warning(tmp_path):
    real = write(tmp_path / "site" / "keras" / "__init__.py", "__version__ = 'real 2.4.3'\n")
    write(tmp_path / "uses_keras.py", """
        import json
        import subprocess
        import sys

        import kerasish
        import keras
        kerasish.install_as_keras()  # again: no second warning
        child = subprocess.run([sys.executable, "-c", (
            "import keras, kerasish\\n"
            "print(keras.__version__)\\n"
            "try:\\n"
            "    kerasish.install_as_keras()\\n"
            "except RuntimeError as err:\\n"
            "    print(err)\\n")], capture_output=True, text=True)
        print(json.dumps({"here": keras.__version__, "is_kerasish": keras is kerasish,
                          "child": child.stdout.splitlines()}))
    """)
    result = run(["-m", "kerasish", "uses_keras.py"], cwd=tmp_path, extra_path=tmp_path / "site")
    assert result.returncode == 0, result.stderr
    out = last_json(result.stdout)
    assert out["here"] == "2.3.1" and out["is_kerasish"]
    child_version, child_error = out["child"]
    assert child_version == "real 2.4.3"  # another process still imports the installed Keras
    assert child_error.startswith(f"install_as_keras: Keras ({real}) is already imported in this process")
    warnings = [line for line in result.stderr.splitlines() if "is shadowed here only" in line]
    assert len(warnings) == 1 and str(real.parent) in warnings[0]
