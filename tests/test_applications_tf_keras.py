"""Where tf-keras is installed (here, or at $KERASISH_TF_KERAS_PYTHON as tests/test_saving_h5.py does): the
weights files of ResNet101/152, ResNet50V2/101V2/152V2, Xception, InceptionV3 and InceptionResNetV2 written
by kerasish (random weights and BatchNormalization statistics, small inputs) load into tf-keras's own
application models (by layer order, as Keras loads ImageNet files) and give kerasish's predictions and pooled
features."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from applications_reference import randomise_and_save
from kerasish.applications import inception_resnet_v2, inception_v3, resnet, resnet_v2, xception
from kerasish.models import Model
from test_saving_h5 import tf_keras_python

MODELS = {"ResNet101": (resnet.ResNet101, "resnet", (64, 64, 3)),
          "ResNet152": (resnet.ResNet152, "resnet", (64, 64, 3)),
          "ResNet50V2": (resnet_v2.ResNet50V2, "resnet_v2", (64, 64, 3)),
          "ResNet101V2": (resnet_v2.ResNet101V2, "resnet_v2", (64, 64, 3)),
          "ResNet152V2": (resnet_v2.ResNet152V2, "resnet_v2", (64, 64, 3)),
          "Xception": (xception.Xception, "xception", (75, 75, 3)),
          "InceptionV3": (inception_v3.InceptionV3, "inception_v3", (75, 75, 3)),
          "InceptionResNetV2": (inception_resnet_v2.InceptionResNetV2, "inception_resnet_v2", (75, 75, 3))}

TF_KERAS_CHECK = """
import os, sys, numpy as np
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as keras
folder, names = sys.argv[1], sys.argv[2:]
for name in names:
    data = np.load(os.path.join(folder, name + ".npz"))
    model = getattr(keras.applications, name)(weights=None, input_shape=tuple(data["x"].shape[1:]))
    model.load_weights(os.path.join(folder, name + ".h5"))
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-3, atol=1e-5, err_msg=name)
    features = keras.Model(model.input, model.get_layer("avg_pool").output).predict(data["x"], verbose=0)
    scale = np.abs(data["features"]).max()
    np.testing.assert_allclose(features, data["features"], rtol=1e-4, atol=1e-4 * scale, err_msg=name)
    print(name, "ok")
"""


@pytest.mark.skipif(tf_keras_python() is None, reason="tf_keras is not installed here (nor KERASISH_TF_KERAS_PYTHON "
                                                      "set); test_applications_resnets/inception compare with "
                                                      "torch.nn.functional references instead")
def test_weight_files_load_in_tf_keras_applications_with_identical_predictions(tmp_path):
    rng = np.random.default_rng(0)
    for name, (application, module_name, shape) in MODELS.items():
        model = application(weights=None, input_shape=shape)
        randomise_and_save(model, tmp_path / f"{name}.h5", seed=1)
        model.load_weights(str(tmp_path / f"{name}.h5"))
        module = {"resnet": resnet, "resnet_v2": resnet_v2, "xception": xception, "inception_v3": inception_v3,
                  "inception_resnet_v2": inception_resnet_v2}[module_name]
        x = module.preprocess_input(rng.uniform(0, 255, size=(2,) + shape).astype("float32"))
        features = Model(model.input, model.get_layer("avg_pool").output).predict(x)
        np.savez(tmp_path / f"{name}.npz", x=x, y=model.predict(x), features=features)
        del model
    result = subprocess.run([tf_keras_python(), "-c", TF_KERAS_CHECK, str(tmp_path), *MODELS], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(" ok") == len(MODELS), result.stdout
