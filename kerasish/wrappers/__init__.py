"""Keras 2.3.1's ``keras.wrappers``: ``scikit_learn`` (``KerasClassifier``, ``KerasRegressor``)."""
from kerasish.wrappers import scikit_learn

__all__ = ["scikit_learn"]
