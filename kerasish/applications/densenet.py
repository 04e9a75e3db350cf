"""DenseNet (Huang et al., CVPR 2017): Keras 2.3.1's ``keras/applications/densenet.py``, which builds
keras-applications 1.0.8's ``densenet.DenseNet``: a 7x7 stem (``conv1/conv``, ``conv1/bn``, ``conv1/relu``,
``pool1``), four dense blocks of BN-ReLU-1x1-BN-ReLU-3x3 layers each adding 32 channels
(``conv{b}_block{i}_0_bn`` ... ``_2_conv``, ``_concat``), transition blocks halving the channels and the size
(``pool{b}_bn`` / ``_relu`` / ``_conv`` / ``_pool``), a final ``bn``/``relu`` and ``fc1000``, so Keras's weight
files load. BatchNormalization uses epsilon 1.001e-5 as Keras's does; ``preprocess_input`` uses mode
``'torch'`` (ImageNet mean and std).

``DenseNet(blocks, ...)`` is keras-applications' generic function; as there, the model is named
``densenet121``/``169``/``201`` only when ``blocks`` equals one of their lists, and only those have ImageNet
files (keras-applications fails with an unbound variable otherwise; here a ``ValueError`` says so)."""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared, imagenet_utils
from kerasish.applications.imagenet_utils import _obtain_input_shape, decode_predictions
from kerasish.backend import config, int_shape

__all__ = ["DenseNet", "DenseNet121", "DenseNet169", "DenseNet201", "dense_block", "transition_block",
           "conv_block", "preprocess_input", "decode_predictions", "BASE_WEIGTHS_PATH"]

# keras-applications' spelling ("WEIGTHS") kept, since it is the module attribute users may read.
BASE_WEIGTHS_PATH = "https://github.com/keras-team/keras-applications/releases/download/densenet/"

# Keras's model name -> (blocks per dense block, md5 of the file with the top, md5 of the file without it);
# keras-applications passes the hashes to get_file as file_hash.
DENSENET_VARIANTS = {
    "densenet121": ([6, 12, 24, 16], "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    "densenet169": ([6, 12, 32, 32], "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    "densenet201": ([6, 12, 48, 32], "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}

GROWTH_RATE = 32
BN_EPSILON = 1.001e-5


def preprocess_input(x, data_format=None, **kwargs):
    """Scales RGB values in [0, 255] to [0, 1], then normalises each channel by ImageNet's mean and std
    (imagenet_utils mode ``'torch'``)."""
    return imagenet_utils.preprocess_input(x, data_format, mode="torch", **kwargs)


def _batch_norm(name):
    return layers.BatchNormalization(axis=_shared.bn_axis(), epsilon=BN_EPSILON, name=name)


def conv_block(x, growth_rate, name):
    """One dense layer: BN-ReLU-1x1 convolution (4 * growth_rate) - BN-ReLU-3x3 convolution (growth_rate),
    whose output is concatenated to its input."""
    y = _batch_norm(name + "_0_bn")(x)
    y = layers.Activation("relu", name=name + "_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(y)
    y = _batch_norm(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(y)
    return layers.Concatenate(axis=_shared.bn_axis(), name=name + "_concat")([x, y])


def dense_block(x, blocks, name):
    """``blocks`` dense layers named ``{name}_block1`` ... ``{name}_block{blocks}``."""
    for i in range(blocks):
        x = conv_block(x, GROWTH_RATE, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU, a 1x1 convolution to ``int(channels * reduction)`` channels, 2x2 average pooling."""
    x = _batch_norm(name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    channels = int_shape(x)[_shared.bn_axis()]
    x = layers.Conv2D(int(channels * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def _features(img_input, blocks):
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1/conv")(x)
    x = _batch_norm("conv1/bn")(x)
    x = layers.Activation("relu", name="conv1/relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks[:4], start=2):  # keras-applications reads the first four
        x = dense_block(x, count, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = _batch_norm("bn")(x)
    return layers.Activation("relu", name="relu")(x)


def model_name(blocks) -> str:
    # keras-applications compares ``blocks`` with lists, so a tuple gives the generic name, as there.
    for name, (variant_blocks, _, _) in DENSENET_VARIANTS.items():
        if blocks == variant_blocks:
            return name
    return "densenet"


def weight_files(name):
    """Keras's file per ``include_top`` for a named variant: (file name, URL, get_file hash keyword)."""
    _, hash_top, hash_no_top = DENSENET_VARIANTS[name]
    stem = f"{name}_weights_tf_dim_ordering_tf_kernels"
    return {True: (stem + ".h5", BASE_WEIGTHS_PATH + stem + ".h5", {"file_hash": hash_top}),
            False: (stem + "_notop.h5", BASE_WEIGTHS_PATH + stem + "_notop.h5", {"file_hash": hash_no_top})}


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
             pooling=None, classes=1000, **kwargs):
    """Instantiates the DenseNet architecture (keras-applications 1.0.8 signature).

    Arguments:
        blocks: numbers of building blocks of the four dense blocks (a list, e.g. ``[6, 12, 24, 16]``).
        include_top: whether to include the fully-connected layer (``fc1000``) at the top.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's pre-trained file for
            DenseNet121/169/201, fetched with ``get_file`` into ``~/.keras/models``), or the path to a Keras
            weights file to load.
        input_tensor: optional Keras tensor (e.g. another model's output) to use as image input.
        input_shape: only with ``include_top=False`` (else ``(224, 224, 3)``); 3 channels, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (4D output), ``'avg'`` or ``'max'`` (global pooling).
        classes: number of classes, only with ``include_top=True`` and no ``weights``.

    Returns:
        A functional ``Model`` named ``'densenet121'``, ``'densenet169'``, ``'densenet201'`` or
        ``'densenet'``.
    """
    _shared.check_arguments(weights, include_top, classes, kwargs)
    name = model_name(blocks)
    if weights == "imagenet" and name == "densenet":
        raise ValueError("DenseNet: ImageNet weights exist only for blocks=[6, 12, 24, 16] (DenseNet121), "
                         "[6, 12, 32, 32] (DenseNet169) or [6, 12, 48, 32] (DenseNet201); received blocks="
                         f"{blocks!r}. Pass weights=None or the path of a weights file.")
    input_shape = _obtain_input_shape(input_shape, default_size=224, min_size=32,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    if weights == "imagenet":  # fetched before building, so that offline it fails at once
        weights = _shared.imagenet_file(include_top, weight_files(name))
    img_input = _shared.image_input(input_tensor, input_shape)
    x = _shared.named_pooling_head(_features(img_input, blocks), include_top, pooling, classes, "fc1000")
    model = _shared.finish_model(img_input, input_tensor, x, name)
    _shared.load_weights(model, weights, include_top, None)
    return model


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    """DenseNet with blocks ``[6, 12, 24, 16]`` (see ``DenseNet`` for the arguments)."""
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling, classes, **kwargs)


def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    """DenseNet with blocks ``[6, 12, 32, 32]`` (see ``DenseNet`` for the arguments)."""
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling, classes, **kwargs)


def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
                pooling=None, classes=1000, **kwargs):
    """DenseNet with blocks ``[6, 12, 48, 32]`` (see ``DenseNet`` for the arguments)."""
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling, classes, **kwargs)
