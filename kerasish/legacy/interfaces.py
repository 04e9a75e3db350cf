"""Keras 2.3.1 ``keras.legacy.interfaces``: the decorators that let Keras 2 constructors and methods accept Keras 1
argument names, and their argument preprocessors.

They are implemented once, in kerasish/layers/legacy_arguments.py, where a table also applies them to kerasish's
own layers and models as Keras 2.3.1 applies them to its own (``Dense(output_dim=10, init='uniform')`` warns
"Update your `Dense` call to the Keras 2 API: ..." and builds ``Dense(units=10, kernel_initializer='uniform')``).
Here they are under Keras's names, for code that decorates its own classes with them:

    class MyDense(keras.layers.Layer):
        @interfaces.legacy_dense_support
        def __init__(self, units, kernel_initializer='glorot_uniform', **kwargs): ...

Each ``legacy_*_support`` is a ``LegacyInterface`` (its tables as data, callable as a decorator), as
``generate_legacy_interface(...)`` makes them. ``legacy_get_updates_support`` only reorders a Keras 1 call
``get_updates(params, constraints, loss)`` into ``get_updates(loss=..., params=...)``; it works on any such
method, but kerasish's own optimizers have no ``get_updates``: they are ``torch.optim`` optimizers, and training
calls their ``step()``.
"""
from kerasish.layers.legacy_arguments import (
    add_weight_args_preprocessing, batchnorm_args_preprocessor, conv1d_args_preprocessor, conv2d_args_preprocessor,
    conv3d_args_preprocessor, convlstm2d_args_preprocessor, deconv2d_args_preprocessor,
    embedding_kwargs_preprocessor, generate_legacy_interface, generate_legacy_method_interface,
    generator_methods_args_preprocessor, get_updates_arg_preprocessing, legacy_add_weight_support,
    legacy_batchnorm_support, legacy_conv1d_support, legacy_conv2d_support, legacy_conv3d_support,
    legacy_convlstm2d_support, legacy_cropping2d_support, legacy_cropping3d_support, legacy_deconv2d_support,
    legacy_dense_support, legacy_dropout_support, legacy_embedding_support, legacy_gaussiandropout_support,
    legacy_gaussiannoise_support, legacy_generator_methods_support, legacy_get_updates_support,
    legacy_global_pooling_support, legacy_input_support, legacy_lambda_support, legacy_model_constructor_support,
    legacy_pooling1d_support, legacy_pooling2d_support, legacy_pooling3d_support, legacy_prelu_support,
    legacy_recurrent_support, legacy_separable_conv2d_support, legacy_spatialdropout1d_support,
    legacy_spatialdropoutNd_support, legacy_upsampling1d_support, legacy_upsampling2d_support,
    legacy_upsampling3d_support, legacy_zeropadding2d_support, legacy_zeropadding3d_support,
    raise_duplicate_arg_error, recurrent_args_preprocessor, separable_conv2d_args_preprocessor,
    zeropadding2d_args_preprocessor)

__all__ = [
    "generate_legacy_interface", "generate_legacy_method_interface", "raise_duplicate_arg_error",
    "legacy_dense_support", "legacy_dropout_support", "embedding_kwargs_preprocessor", "legacy_embedding_support",
    "legacy_pooling1d_support", "legacy_prelu_support", "legacy_gaussiannoise_support", "recurrent_args_preprocessor",
    "legacy_recurrent_support", "legacy_gaussiandropout_support", "legacy_pooling2d_support",
    "legacy_pooling3d_support", "legacy_global_pooling_support", "legacy_upsampling1d_support",
    "legacy_upsampling2d_support", "legacy_upsampling3d_support", "conv1d_args_preprocessor",
    "legacy_conv1d_support", "conv2d_args_preprocessor", "legacy_conv2d_support",
    "separable_conv2d_args_preprocessor", "legacy_separable_conv2d_support", "deconv2d_args_preprocessor",
    "legacy_deconv2d_support", "conv3d_args_preprocessor", "legacy_conv3d_support", "batchnorm_args_preprocessor",
    "convlstm2d_args_preprocessor", "legacy_convlstm2d_support", "legacy_batchnorm_support",
    "zeropadding2d_args_preprocessor", "legacy_zeropadding2d_support", "legacy_zeropadding3d_support",
    "legacy_cropping2d_support", "legacy_cropping3d_support", "legacy_spatialdropout1d_support",
    "legacy_spatialdropoutNd_support", "legacy_lambda_support", "generator_methods_args_preprocessor",
    "legacy_generator_methods_support", "legacy_model_constructor_support", "legacy_input_support",
    "add_weight_args_preprocessing", "legacy_add_weight_support", "get_updates_arg_preprocessing",
    "legacy_get_updates_support"]
