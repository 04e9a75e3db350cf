"""The residual blocks and the model function behind Keras 2.3.1's ``keras.applications.resnet`` (ResNet50,
ResNet101, ResNet152) and ``keras.applications.resnet_v2`` (ResNet50V2, ResNet101V2, ResNet152V2), as
keras-applications 1.0.8's ``resnet_common`` builds them.

Layer names are keras-applications' (``conv1_conv``, ``conv{stage}_block{i}_{j}_conv`` / ``_bn`` / ``_relu``,
``_add``/``_out``, ``post_bn``, ``probs``) so Keras's weight files load by name and by order. Every
BatchNormalization uses epsilon 1.001e-5 as Keras's does.

- V1 (``block1``/``stack1``): post-activation bottlenecks; the first block of a stack has a 1x1 convolution
  shortcut (``_0_conv``) and carries the stride in its first 1x1 convolution.
- V2 (``block2``/``stack2``): pre-activation bottlenecks (``_preact_bn``); the stride sits in the *last* block
  of a stack, whose shortcut is a 1x1 max pooling with that stride; the 3x3 convolutions are padded explicitly
  (``_2_pad``) and have no bias; the model ends with ``post_bn``/``post_relu``.
"""
from __future__ import annotations

from kerasish import layers
from kerasish.applications import _shared
from kerasish.applications.imagenet_utils import _obtain_input_shape
from kerasish.backend import config

BASE_WEIGHTS_PATH = "https://github.com/keras-team/keras-applications/releases/download/resnet/"
# keras-applications passes these to get_file as file_hash: (with top, without top).
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}

# blocks per stack conv2..conv5 (bottleneck filters 64, 128, 256, 512)
STACK_FILTERS = (64, 128, 256, 512)
DEPTH_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def batch_norm(name):
    return layers.BatchNormalization(axis=_shared.bn_axis(), epsilon=1.001e-5, name=name)


def block1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A post-activation bottleneck: 1x1 (strided) -> kernel_size 'same' -> 1x1 (4 * filters), added to the
    shortcut, then relu."""
    if conv_shortcut is True:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = batch_norm(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = batch_norm(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = batch_norm(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = batch_norm(name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def stack1(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V1 blocks named ``{name}_block1`` ...; only the first is strided and has a conv shortcut."""
    x = block1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = block1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))
    return x


def block2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck: BN-relu, then 1x1 -> padded kernel_size (strided) -> 1x1 (4 * filters, with
    bias, no BN), added to the shortcut (a 1x1 conv of the pre-activation, a strided 1x1 max pooling of the
    input, or the input)."""
    preact = batch_norm(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut is True:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        # keras-applications leaves this pooling unnamed (Keras's automatic max_pooling2d_N name)
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = batch_norm(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = batch_norm(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def stack2(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V2 blocks: the first with a conv shortcut, the last carrying ``stride1``."""
    x = block2(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = block2(x, filters, name=name + "_block" + str(i))
    return block2(x, filters, stride=stride1, name=name + "_block" + str(blocks))


def stack_fn_for(depth, v2):
    """conv2..conv5 of ResNet{depth}[V2]. V1 strides the first block of conv3..conv5 (conv2 follows the stem's
    max pooling); V2 strides the last block of conv2..conv4."""
    def stack_fn(x):
        for stage, (filters, blocks) in enumerate(zip(STACK_FILTERS, DEPTH_BLOCKS[depth]), start=2):
            if v2:
                x = stack2(x, filters, blocks, stride1=1 if stage == 5 else 2, name=f"conv{stage}")
            else:
                x = stack1(x, filters, blocks, stride1=1 if stage == 2 else 2, name=f"conv{stage}")
        return x
    return stack_fn


def _stem(img_input, preact, use_bias):
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if preact is False:
        x = batch_norm("conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def weight_files(model_name):
    """Keras's file per ``include_top``: ``{model_name}_weights_tf_dim_ordering_tf_kernels[_notop].h5``."""
    files = {}
    for include_top, suffix, file_hash in ((True, "", WEIGHTS_HASHES[model_name][0]),
                                           (False, "_notop", WEIGHTS_HASHES[model_name][1])):
        fname = f"{model_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        files[include_top] = (fname, BASE_WEIGHTS_PATH + fname, {"file_hash": file_hash})
    return files


def ResNet(stack_fn, preact, use_bias, model_name="resnet", include_top=True, weights="imagenet",  # noqa: N802
           input_tensor=None, input_shape=None, pooling=None, classes=1000, **kwargs):
    """keras-applications' ``resnet_common.ResNet``: the stem, ``stack_fn(x)``, the V2 ``post_bn``, the head.

    ``preact`` selects V2 (pre-activation), ``use_bias`` the stem convolution's bias; ``weights='imagenet'``
    loads Keras's file for ``model_name`` (one of ``WEIGHTS_HASHES``; any other name loads nothing, as in
    keras-applications). The other arguments are the application functions' (see ``ResNet50``)."""
    _shared.check_arguments(weights, include_top, classes, kwargs)
    input_shape = _obtain_input_shape(input_shape, default_size=224, min_size=32,
                                      data_format=config.image_data_format(), require_flatten=include_top,
                                      weights=weights)
    img_input = _shared.image_input(input_tensor, input_shape)
    x = stack_fn(_stem(img_input, preact, use_bias))
    if preact is True:
        x = batch_norm("post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _shared.named_pooling_head(x, include_top, pooling, classes, "probs")
    model = _shared.finish_model(img_input, input_tensor, x, model_name)
    if weights == "imagenet" and model_name not in WEIGHTS_HASHES:
        return model
    _shared.load_weights(model, weights, include_top,
                         weight_files(model_name) if weights == "imagenet" else None)
    return model


def build(depth, v2, include_top, weights, input_tensor, input_shape, pooling, classes, kwargs):
    """ResNet{depth}[V2] as keras-applications defines each (``use_bias=True`` for both: the stem convolution
    has a bias; ``preact`` is V2)."""
    model_name = f"resnet{depth}{'v2' if v2 else ''}"
    return ResNet(stack_fn_for(depth, v2), v2, True, model_name, include_top, weights, input_tensor, input_shape,
                  pooling, classes, **kwargs)
