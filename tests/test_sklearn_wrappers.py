"""seqnet.wrappers.scikit_learn: KerasClassifier / KerasRegressor as estimators (and inside
GridSearchCV when scikit-learn is installed)."""
import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.wrappers.scikit_learn import KerasClassifier, KerasRegressor

rng = np.random.RandomState(0)
X = rng.rand(120, 4).astype(np.float32)
LABELS = np.where(X[:, 0] + X[:, 1] > 1.0, "yes", "no")


def classifier(hidden=16, optimizer="rmsprop"):
    model = Sequential([Dense(hidden, activation="relu", input_dim=4), Dense(2, activation="softmax")])
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    return model


def regressor(hidden=8):
    model = Sequential([Dense(hidden, activation="tanh", input_dim=4), Dense(1)])
    model.compile("rmsprop", "mse")
    return model


def test_classifier_fits_predicts_labels_and_scores_accuracy():
    keras.utils.set_random_seed(1)
    clf = KerasClassifier(build_fn=classifier, hidden=32, epochs=60, batch_size=16, verbose=0)
    clf.fit(X, LABELS)
    assert list(clf.classes_) == ["no", "yes"]
    pred = clf.predict(X)
    assert set(pred.tolist()) <= {"no", "yes"}
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert clf.score(X, LABELS) == pytest.approx(np.mean(pred == LABELS))
    assert clf.score(X, LABELS) > 0.8


def test_regressor_predict_is_squeezed_and_score_is_minus_loss():
    y = X.sum(axis=1)
    reg = KerasRegressor(build_fn=regressor, epochs=5, verbose=0)
    reg.fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (120,)
    assert reg.score(X, y) == pytest.approx(-np.mean((pred - y) ** 2), rel=1e-4)


def test_params_are_checked_and_round_trip():
    clf = KerasClassifier(build_fn=classifier, hidden=8, epochs=1)
    assert clf.get_params()["hidden"] == 8 and clf.get_params()["build_fn"] is classifier
    clf.set_params(hidden=4)
    assert clf.get_params()["hidden"] == 4
    with pytest.raises(ValueError, match="not a legal parameter"):
        KerasClassifier(build_fn=classifier, hiddden=8)
    with pytest.raises(ValueError, match="not a legal parameter"):
        clf.set_params(learning_rat=0.1)


def test_inside_grid_search():
    model_selection = pytest.importorskip("sklearn.model_selection")
    clf = KerasClassifier(build_fn=classifier, epochs=3, batch_size=32, verbose=0)
    grid = model_selection.GridSearchCV(clf, {"hidden": [4, 8]}, cv=2)
    grid.fit(X, LABELS)
    assert grid.best_params_["hidden"] in (4, 8)
    assert 0.0 <= grid.best_score_ <= 1.0
