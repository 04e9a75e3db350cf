"""Makes tests/fixtures/keras_applications_layer_names/<model>.txt: the layer names, in ``model.layers`` order, of
keras-applications 1.0.8's own model functions (its source, e.g. /tmp/kref/kapps/keras_applications, on the path)
run with tf-keras's modules injected as ``backend``/``layers``/``models``/``utils``. Run by hand, never by tests:

    /tmp/tfk/bin/python scripts/make_application_name_fixtures.py /tmp/kref/kapps

Layers keras-applications leaves unnamed get tf-keras's automatic names (``activation``, ``activation_1``...); the
file gives them Keras 2.3.1's names in a fresh session (``activation_1``, ``activation_2``...), which is what
kerasish gives them after ``K.clear_session()``. Each file's header records tf-keras's parameter counts.
"""
import os
import pathlib
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import tf_keras as keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_applications_layer_names"
INJECTED = dict(backend=keras.backend, layers=keras.layers, models=keras.models, utils=keras.utils)


def snake_case(class_name):
    # tf-keras's (and Keras 2.3.1's) automatic layer-name prefix
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def keras231_name(layer):
    """tf-keras's automatic ``prefix`` / ``prefix_N`` becomes Keras 2.3.1's ``prefix_1`` / ``prefix_{N+1}``."""
    prefix = snake_case(type(layer).__name__)
    match = re.fullmatch(re.escape(prefix) + r"(?:_(\d+))?", layer.name)
    if match is None or isinstance(layer, keras.layers.InputLayer):
        return layer.name
    return f"{prefix}_{int(match.group(1) or 0) + 1}"


def write(file_name, source, model):
    trainable = sum(keras.backend.count_params(w) for w in model.trainable_weights)
    lines = [f"# Layer names of keras-applications 1.0.8's {source} (model.layers order), built with tf-keras "
             f"{keras.__version__}",
             "# modules injected, by scripts/make_application_name_fixtures.py; unnamed layers given Keras 2.3.1's",
             "# automatic names in a fresh session. tf-keras's parameter counts (total, trainable, non-trainable): "
             f"{model.count_params()}, {trainable}, {model.count_params() - trainable}."]
    lines += [keras231_name(layer) for layer in model.layers]
    (OUT / file_name).write_text("\n".join(lines) + "\n")
    print(file_name, model.count_params(), len(model.layers))


def main():
    sys.path.insert(0, sys.argv[1])
    from keras_applications import densenet, nasnet
    OUT.mkdir(exist_ok=True)
    for name, fn, kwargs in [
        ("densenet121.txt", densenet.DenseNet121, {}),
        ("densenet169_notop.txt", densenet.DenseNet169, dict(include_top=False)),
        ("nasnet_mobile.txt", nasnet.NASNetMobile, {}),
        ("nasnet_large_notop.txt", nasnet.NASNetLarge, dict(include_top=False)),
    ]:
        keras.backend.clear_session()
        arguments = ", ".join(f"{k}={v}" for k, v in dict(weights=None, **kwargs).items())
        write(name, f"{fn.__module__.split('.')[-1]}.{fn.__name__}({arguments})",
              fn(weights=None, **kwargs, **INJECTED))


if __name__ == "__main__":
    main()
