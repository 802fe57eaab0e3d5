"""A failed fit or partial_fit leaves the estimator exactly as it was.

Every way a call can fail (bad sample weights, inf in a column, a bad label, a callback
that raises, a KeyboardInterrupt before training, a non-finite loss, a parameter the
call cannot honour), on a fitted estimator (a cold refit, a warm start, a partial_fit)
and on an unfitted one, in both estimator families: a fitted model then predicts
bit-identically and trains on as if the failed call never happened; an unfitted one
raises NotFittedError.
"""

import functools

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu.exceptions import NonFiniteLossError

FAMILIES = [DeepFMClassifier, MMOEMultiOutput]


@pytest.fixture(scope="module")
def tiny(tiny):
    """Two epochs without early stopping: every fit trains on all the rows."""
    return functools.partial(tiny, max_epochs=2, early_stopping=False)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 300
    X = pd.DataFrame(
        {
            "city": rng.choice(["Paris", "Rome", "Oslo", "Lima"], n).astype(object),
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "age": rng.normal(40, 10, n),
        }
    )
    click = ((X["city"] == "Paris") | (rng.rand(n) < 0.3)).to_numpy()
    buy = click & (rng.rand(n) < 0.5)
    Y = pd.DataFrame({"click": click.astype(int), "buy": buy.astype(int)})
    return X, Y


def labels(estimator_class, Y):
    return Y if estimator_class is MMOEMultiOutput else Y["click"].to_numpy()


def classes(estimator_class):
    return [[0, 1], [0, 1]] if estimator_class is MMOEMultiOutput else [0, 1]


class RaiseInEpoch(Callback):
    """A user callback that raises at the end of the given epoch of a fit."""

    def __init__(self, epoch=1):
        self.epoch = epoch

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) - self.start_ == self.epoch:
            raise RuntimeError("callback failed")


class InterruptBeforeTraining(Callback):
    def on_train_begin(self, net, **kwargs):
        raise KeyboardInterrupt


class PoisonSecondBatch(Callback):
    """Make the loss of the second training batch of a fit NaN."""

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.start_ + 1 and len(net.history[-1]["batches"]) == 2:
            batch[0]["dense"] = torch.full_like(batch[0]["dense"], float("nan"))


def _bad_weight(X, y):
    return {"sample_weight": -np.ones(len(X))}


def _inf_column(X, y):
    return {"X": X.assign(age=np.where(np.arange(len(X)) == 5, np.inf, X["age"]))}


def _bad_label(X, y):
    if isinstance(y, pd.DataFrame):
        return {"y": y.assign(click=np.where(np.arange(len(y)) == 0, np.nan, y["click"]))}
    return {"y": np.where(np.arange(len(y)) == 0, np.nan, y)}


#: name -> (what the failing call changes: a function of (X, y) giving call arguments,
#: or parameters to set on the estimator before the call, and the error it raises).
FAILURES = {
    "negative sample_weight": (_bad_weight, {}, ValueError),
    "inf in a column": (_inf_column, {}, ValueError),
    "NaN label": (_bad_label, {}, ValueError),
    "callback raises in training": (None, {"callbacks": [RaiseInEpoch(1)]}, RuntimeError),
    "KeyboardInterrupt before training": (
        None,
        {"callbacks": [InterruptBeforeTraining()]},
        KeyboardInterrupt,
    ),
    "non-finite loss": (None, {"callbacks": [PoisonSecondBatch()]}, NonFiniteLossError),
    "device without a backend": (None, {"device": "xpu"}, ValueError),
    "callbacks that are not callbacks": (None, {"callbacks": [print]}, TypeError),
}


def fingerprint(model, X):
    """What a user can observe of a fitted model: its answers, attributes and history."""
    proba = model.predict_proba(X)
    return {
        "proba": [p.copy() for p in proba] if isinstance(proba, list) else proba.copy(),
        "attributes": sorted(vars(model)),
        "n_iter_": model.n_iter_,
        "epochs": len(model.history_),
        "feature_names_in_": list(model.feature_names_in_),
        "classes_": repr(model.classes_),
        "weights": {k: v.clone() for k, v in model.net_.module_.state_dict().items()},
    }


def assert_same(before, after):
    for key in ("attributes", "n_iter_", "epochs", "feature_names_in_", "classes_"):
        assert before[key] == after[key], key
    np.testing.assert_array_equal(np.asarray(before["proba"]), np.asarray(after["proba"]))
    for name, tensor in before["weights"].items():
        torch.testing.assert_close(after["weights"][name], tensor, rtol=0, atol=0, msg=name)


def failing_call(model, how, X, y, failure):
    """Make ``model``'s next call ``how`` ('fit', 'warm fit', 'partial_fit') fail in the way named."""
    arguments, params, error = FAILURES[failure]
    model.set_params(**params, warm_start=how == "warm fit")
    call = {"X": X, "y": y, **(arguments(X, y) if arguments else {})}
    with pytest.raises(error):
        if how == "partial_fit":
            model.partial_fit(call["X"], call["y"], sample_weight=call.get("sample_weight"))
        else:
            model.fit(call["X"], call["y"], sample_weight=call.get("sample_weight"))
    model.set_params(callbacks=None, device="cpu", warm_start=False)


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("how", ["fit", "warm fit", "partial_fit"])
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_a_failed_call_leaves_a_fitted_model_as_it_was(estimator_class, how, failure, data, tiny):
    X, Y = data
    y = labels(estimator_class, Y)
    model = tiny(estimator_class).fit(X, y)
    before = fingerprint(model, X)
    failing_call(model, how, X, y, failure)
    assert_same(before, fingerprint(model, X))


@pytest.mark.parametrize("failure", ["callback raises in training", "non-finite loss", "inf in a column"])
@pytest.mark.parametrize("how", ["warm fit", "partial_fit"])
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_training_goes_on_after_a_failed_call_as_if_it_never_happened(
    estimator_class, how, failure, data, tiny
):
    """The optimizer's state, the history and the seeds come back too, not only the weights."""
    X, Y = data
    y = labels(estimator_class, Y)

    def go_on(model):
        if how == "partial_fit":
            return model.partial_fit(X, y)
        return model.set_params(warm_start=True).fit(X, y)

    untouched = go_on(tiny(estimator_class).fit(X, y))
    model = tiny(estimator_class).fit(X, y)
    failing_call(model, how, X, y, failure)
    assert_same(fingerprint(untouched, X), fingerprint(go_on(model), X))


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_a_failed_first_call_leaves_the_estimator_unfitted(estimator_class, how, failure, data, tiny):
    X, Y = data
    y = labels(estimator_class, Y)
    model = tiny(estimator_class)
    attributes = dict(vars(model))
    arguments, params, error = FAILURES[failure]
    model.set_params(**params)
    call = {"X": X, "y": y, **(arguments(X, y) if arguments else {})}
    with pytest.raises(error):
        if how == "partial_fit":
            model.partial_fit(
                call["X"],
                call["y"],
                classes=classes(estimator_class),
                sample_weight=call.get("sample_weight"),
            )
        else:
            model.fit(call["X"], call["y"], sample_weight=call.get("sample_weight"))
    model.set_params(**{name: attributes[name] for name in params})
    assert vars(model).keys() == attributes.keys()
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError):
            getattr(model, method)(X)


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_a_non_finite_loss_hands_over_what_the_fit_trained(estimator_class, data, tiny):
    """The failed fit changes nothing; the error carries a fitted copy with the weights it names."""
    X, Y = data
    y = labels(estimator_class, Y)
    model = tiny(estimator_class).fit(X, y)
    before = fingerprint(model, X)
    model.set_params(warm_start=True, callbacks=[PoisonSecondBatch()])
    with pytest.raises(NonFiniteLossError, match="left as it was before this call") as info:
        model.fit(X, y)
    trained = info.value.trained_estimator
    assert trained is not model and trained.net_ is not model.net_
    assert "from before the failing batch" in info.value.kept
    # One batch of the warm start was trained before the failing one.
    assert not np.array_equal(np.asarray(trained.predict_proba(X)), np.asarray(before["proba"]))
    assert_same(before, fingerprint(model, X))
