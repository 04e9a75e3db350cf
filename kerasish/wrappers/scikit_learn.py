"""Keras 2.3.1's ``keras.wrappers.scikit_learn``: a model-building function as a scikit-learn estimator, so that
``GridSearchCV``, ``cross_val_score`` and pipelines can train and score kerasish models.

``KerasClassifier(build_fn, **sk_params)`` / ``KerasRegressor``: ``build_fn`` makes and compiles a new model on
every ``fit``. ``sk_params`` hold both its arguments and those of ``fit``/``predict``/``evaluate``: each call
takes the ones its signature names (``filter_sk_params``), and keywords given to the call win. Grid searches may
tune any of them (``epochs``, ``batch_size``, ``build_fn``'s ``units`` ...).

What Keras 2.3.1 does, and so does this:

* the classifier learns ``classes_`` from ``y`` (``np.unique``; a one-hot ``y`` gives ``0..n-1``), trains on
  their indices (one-hot when the loss is categorical crossentropy) and ``predict`` maps indices back to the
  user's labels (strings stay strings). A single sigmoid output thresholds at 0.5, and ``predict`` then returns
  shape ``(n, 1)``, as Keras's does;
* ``predict_proba`` of a single sigmoid output has two columns, ``[1 - p, p]``, as scikit-learn expects;
* ``score`` is the model's accuracy metric (the classifier: ``metrics=['accuracy']`` is needed) or the negative
  loss (the regressor): greater is better for scikit-learn either way.

Made for today's scikit-learn, where Keras 2.3.1's wrapper no longer works: ``get_params`` returns the
parameters themselves (scikit-learn's ``clone`` copies them and checks they come back unchanged, which a deep copy
breaks), ``set_params`` accepts ``build_fn``, and the estimator declares its kind to scikit-learn's tags
(``__sklearn_tags__``, and ``_estimator_type`` for versions before 1.6). scikit-learn is not imported unless it
asks for the tags itself.
"""
from __future__ import annotations

import copy
import types

import numpy as np

from kerasish import losses
from kerasish.models import Sequential
from kerasish.utils.generic_utils import has_arg, to_list
from kerasish.utils.np_utils import to_categorical

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]


def _is_categorical_crossentropy(loss) -> bool:
    """Keras 2.3.1 ``losses.is_categorical_crossentropy``: the name, the function or a CategoricalCrossentropy."""
    if getattr(loss, "__name__", None) == "categorical_crossentropy":
        return True
    if not isinstance(loss, (str, losses.Loss)) and not callable(loss):
        return False  # a list or dict of losses (several outputs)
    try:
        return losses.underlying_function(loss) is losses.categorical_crossentropy
    except ValueError:  # a name losses.get does not know
        return False


class BaseWrapper:
    """What KerasClassifier and KerasRegressor share: parameters, ``fit``. Use one of those.

    Arguments:
        build_fn: makes and returns a compiled model: a function, an object with ``__call__``, or None for a
            subclass whose ``__call__`` does it. Its arguments need defaults, like any estimator's parameters.
        **sk_params: arguments of ``build_fn`` and of the model's ``fit``, ``predict``, ``predict_classes``
            and ``evaluate`` (``epochs``, ``batch_size``, ``verbose`` ...).
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_function(self):
        """The callable ``build_fn`` stands for, whose signature says which sk_params it takes."""
        if self.build_fn is None:
            if not callable(self):
                raise TypeError(f"{type(self).__name__}: build_fn=None needs a subclass whose __call__ builds and "
                                "returns the compiled model; or pass build_fn=a function that does.")
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn.__call__
        return self.build_fn

    def check_params(self, params) -> None:
        """Raises ValueError for a name that no legal function takes: ``build_fn`` and the model's ``fit``,
        ``predict``, ``predict_classes`` and ``evaluate`` (``nb_epoch``, Keras 1's ``epochs``, is allowed)."""
        legal = [Sequential.fit, Sequential.predict, Sequential.predict_classes, Sequential.evaluate,
                 self._build_function()]
        for name in params:
            if name != "nb_epoch" and not any(has_arg(fn, name) for fn in legal):
                raise ValueError(f"{name} is not a legal parameter: sk_params must be arguments of build_fn or of "
                                 "the model's fit, predict, predict_classes or evaluate.")

    def get_params(self, **params) -> dict:
        """``{'build_fn': ..., **sk_params}``. scikit-learn's ``deep=`` changes nothing: a model-building
        function has no nested estimator parameters (Keras 2.3.1 ignores it too)."""
        return {**self.sk_params, "build_fn": self.build_fn}

    def set_params(self, **params):
        """Updates ``build_fn`` and the sk_params; returns the estimator."""
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def fit(self, x, y, **kwargs):
        """Builds a new model with ``build_fn`` and fits it to ``(x, y)``; ``kwargs`` are ``fit`` arguments
        (they win over sk_params). Returns the History."""
        build = self._build_function()
        self.model = build(**self.filter_sk_params(build))
        if _is_categorical_crossentropy(self.model.loss) and len(y.shape) != 2:
            y = to_categorical(y)
        # sk_params are deep-copied per fit (Keras 2.3.1): a callback's state does not carry from one fold to the next
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        if "nb_epoch" in self.sk_params:
            fit_args.setdefault("nb_epoch", self.sk_params["nb_epoch"])  # fit renames it, with Keras's warning
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def filter_sk_params(self, fn, override=None) -> dict:
        """The sk_params ``fn`` accepts by name, updated with ``override``."""
        chosen = {name: value for name, value in self.sk_params.items() if has_arg(fn, name)}
        chosen.update(override or {})
        return chosen

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({arguments})"

    def _tags(self, estimator_type: str, **kind_tags):
        from sklearn.utils import InputTags, Tags, TargetTags  # scikit-learn >= 1.6 asks for these
        return Tags(estimator_type=estimator_type, target_tags=TargetTags(required=True), input_tags=InputTags(),
                    **kind_tags)


class KerasClassifier(BaseWrapper):
    """The scikit-learn classifier interface of a Keras model (Keras 2.3.1): labels of any kind, ``classes_``,
    ``predict``, ``predict_proba``, ``score`` (accuracy)."""

    _estimator_type = "classifier"  # scikit-learn < 1.6

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags
        return self._tags("classifier", classifier_tags=ClassifierTags())

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Learns ``classes_`` from ``y`` (labels of shape ``(n,)`` or ``(n, 1)``, or a one-hot matrix), then
        builds and fits a new model on the class indices. Returns the History."""
        y = np.array(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"Invalid shape for y: {y.shape}; expected (n_samples,), (n_samples, 1) or a one-hot "
                             "(n_samples, n_classes) matrix.")
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted labels, in the user's label values: argmax of a softmax, or a sigmoid output > 0.5
        (then of shape ``(n, 1)``, as Keras 2.3.1). ``kwargs``: ``predict_classes`` arguments."""
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        proba = self.model.predict(x, **kwargs)
        classes = proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32")
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs):
        """Class probabilities, one column per class of ``classes_``; a single sigmoid output gives the two
        columns ``[1 - p, p]``. ``kwargs``: ``predict_proba`` arguments."""
        kwargs = self.filter_sk_params(Sequential.predict_proba, kwargs)
        probs = self.model.predict(x, **kwargs)
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on ``(x, y)`` (labels as given to ``fit``). ``kwargs``: ``evaluate``
        arguments. Raises ValueError when the model was not compiled with an accuracy metric."""
        y = np.searchsorted(self.classes_, y)
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        if _is_categorical_crossentropy(self.model.loss) and len(y.shape) != 2:
            y = to_categorical(y)
        outputs = to_list(self.model.evaluate(x, y, **kwargs))
        for name, output in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return output
        raise ValueError('The model is not configured to compute accuracy. You should pass `metrics=["accuracy"]` '
                         "to the `model.compile()` method.")


class KerasRegressor(BaseWrapper):
    """The scikit-learn regressor interface of a Keras model (Keras 2.3.1): ``predict``, ``score`` (negative
    loss)."""

    _estimator_type = "regressor"  # scikit-learn < 1.6

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags
        return self._tags("regressor", regressor_tags=RegressorTags())

    def predict(self, x, **kwargs):
        """The model's predictions, a trailing axis of size 1 dropped. ``kwargs``: ``predict`` arguments."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        preds = np.array(self.model.predict(x, **kwargs))
        return np.squeeze(preds, axis=-1) if preds.shape[-1] == 1 else preds

    def score(self, x, y, **kwargs):
        """Minus the model's loss on ``(x, y)`` (greater is better). ``kwargs``: ``evaluate`` arguments."""
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(x, y, **kwargs)
        return -loss[0] if isinstance(loss, list) else -loss
