"""Keras 2.3.1's ``keras.wrappers.scikit_learn``: KerasClassifier and KerasRegressor as scikit-learn estimators
(parameters, sk_params routed by signature, labels kept as the user's, predict_proba's two columns, scores), under
scikit-learn's own GridSearchCV, cross_val_score and clone. Expected values are computed in the tests from the
model's raw outputs with NumPy."""
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from kerasish.layers import Dense, Input
from kerasish.models import Model, Sequential
from kerasish.wrappers.scikit_learn import BaseWrapper, KerasClassifier, KerasRegressor

rng = np.random.RandomState(0)
X = rng.randn(48, 4).astype("float32")
Y_INT = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)  # 0, 1, 2
Y_STR = np.array(["cat", "dog", "emu"])[Y_INT]
Y_REG = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3).astype("float32")


def three_classes(units=8, hidden=(8,), optimizer="adam"):
    torch.manual_seed(0)
    model = Sequential([Dense(units, activation="relu", input_dim=4)] +
                       [Dense(n, activation="relu") for n in hidden] + [Dense(3, activation="softmax")])
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    return model


def binary(units=4):
    torch.manual_seed(0)
    model = Sequential([Dense(units, activation="relu", input_dim=4), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    return model


def regression(units=8):
    torch.manual_seed(0)
    inputs = Input((4,))
    model = Model(inputs, Dense(1)(Dense(units, activation="relu")(inputs)))
    model.compile("adam", "mse")
    return model


# ---------------------------------------------------------------------------------------------- classifier
def test_classifier_keeps_string_labels_and_predicts_the_argmax_class():
    clf = KerasClassifier(three_classes, epochs=3, batch_size=8, verbose=0)
    history = clf.fit(X, Y_STR)
    assert list(clf.classes_) == ["cat", "dog", "emu"] and clf.n_classes_ == 3
    assert history.params["epochs"] == 3 and history.params["batch_size"] == 8  # sk_params routed to fit
    proba = clf.model.predict(X)
    np.testing.assert_array_equal(clf.predict(X), np.array(["cat", "dog", "emu"])[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_proba(X), proba)
    assert clf.score(X, Y_STR) == pytest.approx(np.mean(clf.predict(X) == Y_STR), abs=1e-6)


def test_classifier_on_a_single_sigmoid_output_gives_two_probability_columns():
    labels = np.where(Y_INT > 0, "yes", "no")
    clf = KerasClassifier(binary, epochs=2, verbose=0)
    clf.fit(X, labels)
    p = clf.model.predict(X)
    np.testing.assert_allclose(clf.predict_proba(X), np.hstack([1 - p, p]))
    predicted = clf.predict(X)
    assert predicted.shape == (48, 1)  # Keras 2.3.1 keeps the sigmoid's axis
    np.testing.assert_array_equal(predicted[:, 0], np.where(p[:, 0] > 0.5, "yes", "no"))
    assert clf.score(X, labels) == pytest.approx(np.mean(predicted[:, 0] == labels), abs=1e-6)


def test_classifier_takes_one_hot_targets_as_class_indices():
    clf = KerasClassifier(three_classes, epochs=1, verbose=0)
    clf.fit(X, np.eye(3)[Y_INT])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match=r"Invalid shape for y: \(48, 1, 1\)"):
        clf.fit(X, Y_INT[:, None, None])


def test_classifier_score_needs_an_accuracy_metric():
    def no_metric():
        model = three_classes()
        model.compile("adam", "categorical_crossentropy")
        return model

    clf = KerasClassifier(no_metric, epochs=1, verbose=0)
    clf.fit(X, Y_INT)
    with pytest.raises(ValueError, match=r'pass `metrics=\["accuracy"\]` to the `model.compile\(\)` method'):
        clf.score(X, Y_INT)


def test_call_keywords_win_over_sk_params_and_sample_weight_reaches_fit():
    clf = KerasClassifier(three_classes, epochs=3, batch_size=8, verbose=0)
    history = clf.fit(X, Y_INT, epochs=1, sample_weight=np.ones(48))
    assert history.params["epochs"] == 1 and len(history.history["loss"]) == 1
    zero_weights = clf.fit(X, Y_INT, sample_weight=np.zeros(48))
    assert zero_weights.history["loss"] == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------- build_fn forms
class Builder:
    def __call__(self, units=8):
        return three_classes(units=units)


class SubclassedClassifier(KerasClassifier):
    def __call__(self, units=8):
        return three_classes(units=units)


@pytest.mark.parametrize("make", [lambda: KerasClassifier(three_classes, units=5, epochs=1, verbose=0),
                                  lambda: KerasClassifier(Builder(), units=5, epochs=1, verbose=0),
                                  lambda: SubclassedClassifier(units=5, epochs=1, verbose=0)],
                         ids=["function", "callable object", "subclass __call__"])
def test_build_fn_may_be_a_function_a_callable_object_or_the_subclass_call(make):
    clf = make()
    clf.fit(X, Y_INT)
    assert clf.model.layers[0].units == 5  # the build_fn argument among the sk_params


def test_no_build_fn_without_a_subclass_call_is_refused():
    with pytest.raises(TypeError, match="build_fn=None needs a subclass whose __call__ builds"):
        KerasRegressor(epochs=1)


def test_unknown_sk_params_are_refused_with_keras_wording():
    with pytest.raises(ValueError, match="unitz is not a legal parameter"):
        KerasClassifier(three_classes, unitz=3)
    clf = KerasClassifier(three_classes)
    with pytest.raises(ValueError, match="epoch is not a legal parameter"):
        clf.set_params(epoch=3)
    assert KerasClassifier(three_classes, nb_epoch=2, batch_size=4, validation_split=0.1, steps=None)


def test_nb_epoch_reaches_fit_as_epochs_with_keras_warning():
    clf = KerasClassifier(three_classes, nb_epoch=2, verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = clf.fit(X, Y_INT)
    assert len(history.history["loss"]) == 2
    assert any("renamed `epochs`" in str(w.message) for w in caught)


def test_filter_sk_params_picks_what_a_function_accepts():
    clf = KerasClassifier(three_classes, units=3, epochs=2, batch_size=4)

    def predict_like(x, batch_size=32, verbose=0):
        return x, batch_size, verbose

    assert clf.filter_sk_params(predict_like) == {"batch_size": 4}
    assert clf.filter_sk_params(predict_like, {"verbose": 1}) == {"batch_size": 4, "verbose": 1}
    assert clf.filter_sk_params(three_classes) == {"units": 3}


# ---------------------------------------------------------------------------------------------- scikit-learn
def test_get_set_params_and_clone_keep_the_parameters_themselves():
    hidden = [6, 4]
    clf = KerasClassifier(three_classes, hidden=hidden, epochs=2, verbose=0)
    assert clf.get_params() == {"hidden": [6, 4], "epochs": 2, "verbose": 0, "build_fn": three_classes}
    assert clf.get_params(deep=False)["hidden"] is hidden
    copy = clone(clf)
    assert type(copy) is KerasClassifier and copy.get_params() == clf.get_params() and copy is not clf
    assert copy.sk_params is not clf.sk_params
    assert clf.set_params(epochs=5, build_fn=binary) is clf
    assert clf.sk_params["epochs"] == 5 and clf.build_fn is binary
    assert is_classifier(clf) and is_regressor(KerasRegressor(regression))
    assert not is_classifier(KerasRegressor(regression)) and not is_regressor(clf)
    assert repr(KerasRegressor(regression, epochs=1)).startswith("KerasRegressor(epochs=1, build_fn=<function")


def test_grid_search_tunes_fit_and_build_fn_parameters():
    clf = KerasClassifier(three_classes, verbose=0)
    grid = {"epochs": [1, 3], "batch_size": [8, 16], "units": [2, 8]}
    search = GridSearchCV(clf, grid, cv=KFold(2, shuffle=True, random_state=0)).fit(X, Y_STR)
    assert len(search.cv_results_["params"]) == 8
    assert set(search.best_params_) == {"epochs", "batch_size", "units"}
    best = search.best_estimator_
    assert isinstance(best, KerasClassifier) and best.sk_params["units"] == search.best_params_["units"]
    assert best.model.layers[0].units == search.best_params_["units"]
    assert set(search.predict(X)) <= {"cat", "dog", "emu"}
    assert search.score(X, Y_STR) == pytest.approx(np.mean(search.predict(X) == Y_STR), abs=1e-6)


def test_cross_val_score_scores_each_fold_with_the_estimator_score():
    clf = KerasClassifier(three_classes, epochs=2, batch_size=8, verbose=0)
    scores = cross_val_score(clf, X, Y_STR, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    reg_scores = cross_val_score(KerasRegressor(regression, epochs=2, verbose=0), X, Y_REG, cv=KFold(3))
    assert reg_scores.shape == (3,) and np.all(reg_scores <= 0)  # negative mean squared errors


# ---------------------------------------------------------------------------------------------- regressor
def test_regressor_predicts_a_flat_vector_and_scores_the_negative_loss():
    reg = KerasRegressor(regression, units=6, epochs=3, batch_size=12, verbose=0)
    reg.fit(X, Y_REG)
    raw = reg.model.predict(X)
    assert raw.shape == (48, 1)
    np.testing.assert_allclose(reg.predict(X), raw[:, 0])
    assert reg.score(X, Y_REG) == pytest.approx(-np.mean((raw[:, 0] - Y_REG) ** 2), rel=1e-4)


def test_regressor_score_with_metrics_is_minus_the_loss():
    def with_metric():
        model = regression()
        model.compile("adam", "mse", metrics=["mae"])
        return model

    reg = KerasRegressor(with_metric, epochs=1, verbose=0)
    reg.fit(X, Y_REG)
    loss, _ = reg.model.evaluate(X, Y_REG, verbose=0)
    assert reg.score(X, Y_REG) == pytest.approx(-loss)
    assert BaseWrapper in type(reg).__mro__
