"""Optional cross-check of keras.applications models against tf-keras itself: the same Keras .h5 weights file
loaded into tf-keras's own model of that name (``tf_keras.applications``, the successor of keras-applications
1.0.8 with the same layers), run on the same input. Runs where tf_keras is importable or
$KERASISH_TF_KERAS_PYTHON names a Python that has it (as in tests/test_saving_h5.py); skipped otherwise."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

TF_KERAS_APPLICATION = """
import os, sys, numpy as np
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as keras
name, weights, arrays = sys.argv[1:4]
data = np.load(arrays)
model = getattr(keras.applications, name)(weights=None, include_top=False, input_shape=data["x"].shape[1:],
                                          pooling="avg")
model.load_weights(weights)
np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-4,
                           atol=1e-4 * np.abs(data["y"]).max())
print("tf-keras", keras.__version__, name, "ok")
"""


def tf_keras_python():
    """A Python with tf_keras: this one, or $KERASISH_TF_KERAS_PYTHON."""
    if importlib.util.find_spec("tf_keras") is not None:
        return sys.executable
    return os.environ.get("KERASISH_TF_KERAS_PYTHON")


needs_tf_keras = pytest.mark.skipif(tf_keras_python() is None, reason="tf_keras is not installed here (nor "
                                    "KERASISH_TF_KERAS_PYTHON set); the torch.nn.functional reference tests run")


def assert_tf_keras_gives(tmp_path, name, weights_path, x, y):
    """tf-keras's ``name(include_top=False, pooling='avg')`` with ``weights_path`` maps ``x`` to ``y``."""
    arrays = tmp_path / "io.npz"
    np.savez(arrays, x=x, y=y)
    result = subprocess.run([tf_keras_python(), "-c", TF_KERAS_APPLICATION, name, str(weights_path), str(arrays)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout.strip())
