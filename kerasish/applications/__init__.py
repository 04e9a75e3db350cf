"""Keras 2.3.1's ``keras.applications``: the ImageNet models as functional kerasish models with Keras's layer
names, so Keras's weight files load (by path or, for ``weights='imagenet'``, through ``get_file``).

One module per Keras module (``vgg16``, ``vgg19``, ``resnet50``, ``resnet``, ``resnet_v2``, ``xception``,
``inception_v3``, ``inception_resnet_v2``, ``mobilenet``, ``mobilenet_v2``, ``densenet``, ``nasnet``,
``imagenet_utils``); each model module also exports its ``preprocess_input`` and ``decode_predictions``.
``_shared`` holds the steps every model function shares (argument checks, input, pooling head, weights, and
``build_model``: the whole frame around a feature extractor, for VGG, Xception and the Inception models);
``_resnet_common`` the residual blocks of ``resnet`` and ``resnet_v2``.
All 18 models of Keras 2.3.1 (issue 14).
"""
import functools

from kerasish import backend, layers, models, utils
from kerasish.applications import imagenet_utils, mobilenet, mobilenet_v2, resnet50, vgg16, vgg19
from kerasish.applications import densenet, inception_resnet_v2, inception_v3, nasnet, resnet, resnet_v2, xception
from kerasish.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from kerasish.applications.inception_resnet_v2 import InceptionResNetV2
from kerasish.applications.inception_v3 import InceptionV3
from kerasish.applications.nasnet import NASNetLarge, NASNetMobile
from kerasish.applications.mobilenet import MobileNet
from kerasish.applications.mobilenet_v2 import MobileNetV2
from kerasish.applications.resnet import ResNet101, ResNet152
from kerasish.applications.resnet50 import ResNet50
from kerasish.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from kerasish.applications.vgg16 import VGG16
from kerasish.applications.vgg19 import VGG19
from kerasish.applications.xception import Xception

__all__ = ["imagenet_utils", "vgg16", "vgg19", "resnet50", "mobilenet", "mobilenet_v2", "VGG16", "VGG19", "ResNet50",
           "MobileNet", "MobileNetV2", "keras_modules_injection",
           "resnet", "resnet_v2", "xception", "inception_v3", "inception_resnet_v2", "ResNet101", "ResNet152",
           "ResNet50V2", "ResNet101V2", "ResNet152V2", "Xception", "InceptionV3", "InceptionResNetV2",
           "densenet", "DenseNet121", "DenseNet169", "DenseNet201", "nasnet", "NASNetMobile", "NASNetLarge"]


def keras_modules_injection(base_fun):
    """Keras 2.3.1's decorator that hands keras-applications functions Keras's modules as ``backend``,
    ``layers``, ``models`` and ``utils`` keywords; here it hands kerasish's (the model functions above accept
    and need none of them)."""
    @functools.wraps(base_fun)
    def wrapper(*args, **kwargs):
        kwargs.update(backend=backend, layers=layers, models=models, utils=utils)
        return base_fun(*args, **kwargs)

    return wrapper
