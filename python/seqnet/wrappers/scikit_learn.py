"""scikit-learn wrappers (``seqnet.wrappers.scikit_learn``): a seqnet model as a
scikit-learn estimator, usable in pipelines and GridSearchCV (Keras 2.2.4's API).

``build_fn`` returns a compiled model; other keyword arguments ("sk_params") go to
``build_fn``, ``fit``, ``predict`` or ``evaluate``, whichever takes them (``epochs=10,
batch_size=32, hidden=64``). scikit-learn itself is not needed to use them.
"""
import copy
import inspect
import types

import numpy as np

from seqnet.models import Sequential
from seqnet.utils.np_utils import to_categorical

__all__ = ["KerasClassifier", "KerasRegressor"]

try:  # with scikit-learn present, be a real estimator (recent versions require its tags)
    from sklearn.base import BaseEstimator as _EstimatorBase
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import RegressorMixin as _RegressorMixin
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    class _EstimatorBase:
        pass

    class _ClassifierMixin:
        pass

    class _RegressorMixin:
        pass


def _has_arg(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params


class BaseWrapper(_EstimatorBase):
    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_target(self):
        """What builds the model: build_fn, its __call__ for a callable object, or the
        subclass's own __call__ when there is no build_fn (as in Keras)."""
        if self.build_fn is None:
            if not callable(getattr(self, "__call__", None)):
                raise ValueError("build_fn is None: pass a function returning a compiled model, or subclass the "
                                 "wrapper and define __call__")
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn.__call__
        return self.build_fn

    def check_params(self, params):
        """ValueError for a parameter that neither build_fn nor fit/predict/evaluate takes."""
        legal = [Sequential.fit, Sequential.predict, Sequential.predict_classes, Sequential.evaluate]
        if self.build_fn is not None or callable(getattr(self, "__call__", None)):
            legal.append(self._build_target())
        for name in params:
            if name != "nb_epoch" and not any(_has_arg(fn, name) for fn in legal):
                raise ValueError(f"{name} is not a legal parameter")

    def get_params(self, **params):
        res = copy.deepcopy(self.sk_params)
        res.update({"build_fn": self.build_fn})
        return res

    def set_params(self, **params):
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        res = {name: value for name, value in self.sk_params.items() if _has_arg(fn, name)}
        res.update(override or {})
        return res

    def fit(self, x, y, **kwargs):
        """Builds a fresh model with build_fn and trains it; returns the History."""
        target = self._build_target()
        self.model = target(**self.filter_sk_params(target))
        y = np.asarray(y)
        if _loss_name(self.model) == "categorical_crossentropy" and y.ndim != 2:
            y = to_categorical(y)
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)


class KerasClassifier(_ClassifierMixin, BaseWrapper):
    """Classifier: labels may be any values (classes_ holds them); predict returns labels."""

    def fit(self, x, y, sample_weight=None, **kwargs):
        y = np.array(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError("Invalid shape for y: " + str(y.shape))
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        return self.classes_[self.model.predict_classes(x, **kwargs)]

    def predict_proba(self, x, **kwargs):
        kwargs = self.filter_sk_params(Sequential.predict_proba, kwargs)
        probs = self.model.predict_proba(x, **kwargs)
        if probs.shape[1] == 1:  # one sigmoid unit: the two classes' probabilities
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on (x, y) (the model must be compiled with metrics=['accuracy'])."""
        y = np.searchsorted(self.classes_, np.asarray(y))
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        if _loss_name(self.model) == "categorical_crossentropy" and y.ndim != 2:
            y = to_categorical(y)
        outputs = self.model.evaluate(x, y, **kwargs)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        for name, output in zip(self.model.metrics_names, outputs):
            if name in ("acc", "accuracy"):
                return output
        raise ValueError("The model is not configured to compute accuracy. You should pass "
                         '`metrics=["accuracy"]` to the `model.compile()` method.')


class KerasRegressor(_RegressorMixin, BaseWrapper):
    """Regressor: predict returns the squeezed outputs; score is minus the loss."""

    def predict(self, x, **kwargs):
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        return np.squeeze(self.model.predict(x, **kwargs))

    def score(self, x, y, **kwargs):
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(x, y, **kwargs)
        return -loss[0] if isinstance(loss, list) else -loss


def _loss_name(model):
    loss = model.loss
    return getattr(loss, "__name__", loss)
