"""Independent references for the keras.applications tests: a Keras .h5 weights file read with h5py as float64
torch tensors, and the Keras layers the application models use written with torch.nn.functional in NCHW
(TensorFlow's 'same' padding spelled out), plus the helpers that write such a file with random weights."""
from __future__ import annotations

import pathlib
import re

import h5py
import numpy as np
import torch

from kerasish import backend as K
from kerasish.models import Model
from kerasish.utils.layer_utils import count_params

F = torch.nn.functional
LAYER_NAMES = pathlib.Path(__file__).parent / "fixtures" / "keras_applications_layer_names"


def counts(model):
    """(total, trainable, non-trainable) parameter counts, as Keras's model.summary() prints them."""
    return model.count_params(), count_params(model.trainable_weights), count_params(model.non_trainable_weights)


def keras_layer_names(model_name):
    """The fixture list of keras-applications' layer names (automatic names as a fresh Keras 2.3.1 session)."""
    lines = (LAYER_NAMES / f"{model_name}.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def build_fresh(application, **kwargs):
    """Build after K.clear_session(), so automatic layer names count from 1 as in a fresh Keras session."""
    K.clear_session()
    return application(**kwargs)


def model_cache(applications, input_shape):
    """A getter that builds each named application once (with the top, 1000 classes, ``input_shape``, fresh
    automatic names), for a module-scoped fixture."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = build_fresh(applications[name], weights=None, input_shape=input_shape)
        return cache[name]

    return get


def randomise_and_save(model, path, seed):
    """Every weight random, saved as a Keras .h5 weights file; the model's weights are then zeroed, so only
    loading the file brings them back. Kernels are drawn with variance 1 / fan-in (a depthwise kernel's fan-in
    is its window alone) so that the signal neither fades nor explodes through ~100 layers and every layer
    shows in the output (Keras's glorot initialisation makes depthwise layers shrink it ~c-fold); biases,
    BatchNormalization scales/offsets and moving statistics are moved by +U(0.1, 0.5) (variances stay
    positive)."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        if w.ndim == 1:
            weights.append(w + rng.uniform(0.1, 0.5, size=w.shape).astype("float32"))
            continue
        fan_in = np.prod(w.shape[:2]) if w.ndim == 4 and w.shape[3] == 1 else np.prod(w.shape[:-1])
        weights.append(rng.normal(0.0, np.sqrt(1.0 / fan_in), size=w.shape).astype("float32"))
    model.set_weights(weights)
    model.save_weights(str(path))
    model.set_weights([np.zeros_like(w) for w in weights])


def keras_no_top_file(model, path, seed, top_layer):
    """``model``'s weights with random biases, BatchNormalization scales and moving statistics (so that every
    weight of the file matters) saved as a Keras weights file, then ``top_layer`` taken out with h5py, as in
    Keras's no-top files."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype("float32") if w.ndim == 1 else w
                       for w in model.get_weights()])
    model.save_weights(str(path))
    with h5py.File(path, "r+") as f:
        del f[top_layer]
        f.attrs["layer_names"] = [name for name in f.attrs["layer_names"] if name != top_layer.encode()]


def nchw(x_channels_last):
    return torch.from_numpy(np.ascontiguousarray(x_channels_last)).permute(0, 3, 1, 2).double()


def same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding (before, after) of one axis: the odd extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, stride, value=0.0):
    rows, cols = (kernel, kernel) if isinstance(kernel, int) else kernel
    top, bottom = same_padding(x.shape[2], rows, stride)
    left, right = same_padding(x.shape[3], cols, stride)
    return F.pad(x, (left, right, top, bottom), value=value)


class KerasFile:
    """A Keras .h5 weights file (h5py group per layer, ``weight_names`` in order); kernels are Keras's
    (rows, cols, in, out)."""

    def __init__(self, f):
        self.f = f

    def __getitem__(self, layer):
        group = self.f[layer]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        return {re.sub(r":\d+$", "", n).rsplit("/", 1)[-1]: torch.from_numpy(np.asarray(group[n])).double()
                for n in names}

    def conv(self, x, layer, stride=1, padding="valid"):
        """Conv2D: 'same' padded as TensorFlow pads, bias when the layer has one."""
        w = self[layer]
        kernel = w["kernel"]
        if padding == "same":
            x = pad_same(x, tuple(kernel.shape[:2]), stride)
        return F.conv2d(x, kernel.permute(3, 2, 0, 1), w.get("bias"), stride=stride)

    def separable(self, x, layer):
        """SeparableConv2D 3x3, stride 1, 'same', no bias: depthwise (multiplier 1) then pointwise."""
        w = self[layer]
        depthwise, pointwise = w["depthwise_kernel"], w["pointwise_kernel"]
        c_in = depthwise.shape[2]
        x = F.conv2d(pad_same(x, 3, 1), depthwise.permute(2, 3, 0, 1).reshape(c_in, 1, 3, 3), groups=c_in)
        return F.conv2d(x, pointwise.permute(3, 2, 0, 1))

    def bn(self, x, layer, eps=1e-3):
        """Inference BatchNormalization; a layer built with ``scale=False`` has no gamma."""
        w = self[layer]
        return F.batch_norm(x, w["moving_mean"], w["moving_variance"], w.get("gamma"), w.get("beta"),
                            training=False, eps=eps)

    def dense_softmax(self, x, layer):
        w = self[layer]
        return torch.softmax(x @ w["kernel"] + w["bias"], dim=-1)


def max_pool_same(x, size, stride):
    return F.max_pool2d(pad_same(x, size, stride, value=float("-inf")), size, stride)


def avg_pool_same_3x3(x):
    # TensorFlow's 'same' average pooling leaves the padding out of each window's count
    return F.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False)


def assert_model_equals_reference(model, reference, x, seed, classifier, tmp_path):
    """Write ``model``'s weights file with random values, load it back, and compare the pooled features
    (``avg_pool``) and the softmax output (``classifier``) on ``x`` with ``reference(KerasFile, x_nchw)``, the
    last feature map computed by torch.nn.functional from the same file."""
    path = tmp_path / "weights.h5"
    randomise_and_save(model, path, seed)
    model.load_weights(str(path))
    with h5py.File(path, "r") as f, torch.no_grad():
        w = KerasFile(f)
        expected_features = reference(w, nchw(x)).mean(dim=(2, 3))
        expected_probs = w.dense_softmax(expected_features, classifier).numpy()
    expected_features = expected_features.numpy()
    features = Model(model.input, model.get_layer("avg_pool").output).predict(x)
    scale = np.abs(expected_features).max()
    np.testing.assert_allclose(features, expected_features, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(model.predict(x), expected_probs, rtol=1e-3, atol=1e-5)
