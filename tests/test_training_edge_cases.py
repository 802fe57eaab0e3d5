"""Training on what real pipelines hand over: one-row batches, extreme weights, and parameters that
cannot work, each a clear error naming the parameter or handled as documented."""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback, EpochScoring

from sklearn_pangu import DeepFMClassifier, FiBiNetClassifier, MMOEMultiOutput
from sklearn_pangu.callbacks import SkipNonFiniteLoss

FAMILIES = [DeepFMClassifier, MMOEMultiOutput]


@pytest.fixture(scope="module")
def tiny(tiny):
    """One epoch is enough for these tests."""
    return functools.partial(tiny, max_epochs=1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 1001
    X = pd.DataFrame(
        {
            "city": rng.choice(["Paris", "Rome", "Oslo"], n).astype(object),
            "age": rng.normal(40, 10, n),
        }
    )
    click = ((X["city"] == "Paris") | (rng.rand(n) < 0.3)).to_numpy().astype(int)
    Y = pd.DataFrame({"click": click, "buy": click & (rng.rand(n) < 0.5)})
    return X, Y


def target(estimator_class, Y):
    return Y if estimator_class is MMOEMultiOutput else Y["click"].to_numpy()


def batch_norm_statistics(model):
    return {
        name: buffer.clone()
        for name, buffer in model.net_.module_.named_buffers()
        if "running_" in name or "num_batches_tracked" in name
    }


# ------------------------------------------------------------------ one-row batches
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_batch_size_one_trains_with_batch_norm(estimator_class, data, tiny):
    X, Y = data
    model = tiny(estimator_class, batch_size=1, batch_norm=True).fit(X[:40], target(estimator_class, Y[:40]))
    assert np.isfinite(np.asarray(model.predict_proba(X))).all()
    # The last row joins the batch before it.
    assert [batch["train_batch_size"] for batch in model.history_[-1]["batches"]] == [1] * 38 + [2]


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_a_one_row_partial_fit_chunk_trains_the_weights_and_keeps_the_statistics(estimator_class, data, tiny):
    """1,001 rows in chunks of 100: the last chunk is one row."""
    X, Y = data
    y = target(estimator_class, Y)
    classes = [[0, 1], [0, 1]] if estimator_class is MMOEMultiOutput else [0, 1]
    model = tiny(estimator_class, batch_norm=True)
    for start in range(0, 1000, 100):
        model.partial_fit(X[start : start + 100], y[start : start + 100], classes=classes)
    weights = {name: p.clone() for name, p in model.net_.module_.named_parameters()}
    statistics = batch_norm_statistics(model)
    assert statistics
    model.partial_fit(X[1000:], y[1000:])
    changed = [name for name, p in model.net_.module_.named_parameters() if not torch.equal(p, weights[name])]
    assert changed  # the row trained the network ...
    for name, buffer in batch_norm_statistics(model).items():  # ... without batch statistics of one row
        torch.testing.assert_close(buffer, statistics[name], rtol=0, atol=0, msg=name)


# --------------------------------------------------------------------- sample weights
@pytest.mark.parametrize("scale", [1e306, 1e-300, 5e-324])
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_sample_weights_of_any_magnitude_train_as_their_ratios(estimator_class, scale, data, tiny):
    X, Y = data
    y = target(estimator_class, Y)
    expected = np.asarray(tiny(estimator_class).fit(X, y, sample_weight=np.ones(len(X))).predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow
        model = tiny(estimator_class).fit(X, y, sample_weight=np.full(len(X), scale))
    np.testing.assert_array_equal(np.asarray(model.predict_proba(X)), expected)


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (np.zeros(1001), "at least one non-zero"),
        (np.r_[np.ones(1000), np.inf], "sample_weight"),
        (np.r_[np.ones(1000), -1.0], "Negative values in data passed to `sample_weight`"),
        (np.ones(10), "sample_weight.shape == \\(10,\\), expected \\(1001,\\)"),
    ],
)
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_unusable_sample_weights_are_errors(estimator_class, weight, message, data, tiny):
    X, Y = data
    with pytest.raises(ValueError, match=message):
        tiny(estimator_class).fit(X, target(estimator_class, Y), sample_weight=weight)


# ------------------------------------------------------------ errors naming the problem
@pytest.mark.parametrize(
    "task_weights", [{"click": 1.0, "buy": 2.0}, ["one", "two"], (1.0,), (1.0, np.nan), (1.0, -1.0), [[1, 2]]]
)
def test_task_weights_of_the_wrong_type_or_shape_name_the_parameter(task_weights, data, tiny):
    X, Y = data
    with pytest.raises(
        ValueError,
        match=r"task_weights must hold 2 non-negative finite numbers, one per task in the order of",
    ):
        tiny(MMOEMultiOutput, task_weights=task_weights).fit(X, Y)


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_validation_fraction_leaving_nothing_to_train_on_names_it(estimator_class, data, tiny):
    X, Y = data
    model = tiny(estimator_class, early_stopping=True, validation_fraction=0.99)
    with pytest.raises(
        ValueError, match=r"validation_fraction=0.99 of the 20 training rows.*early_stopping=False"
    ):
        model.fit(X[:20], target(estimator_class, Y[:20]))
    # A single validation row is enough to run.
    tiny(estimator_class, early_stopping=True, validation_fraction=0.01).fit(
        X[:20], target(estimator_class, Y[:20])
    )


@pytest.mark.parametrize("device", ["xpu", "xpu:0", "meta", "hpu"])
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_a_device_without_a_backend_names_the_device(estimator_class, device, data, tiny):
    X, Y = data
    with pytest.raises(ValueError, match=rf"device='{device}' was requested, but this torch build"):
        tiny(estimator_class, device=device).fit(X[:50], target(estimator_class, Y[:50]))


class Recorder(Callback):
    def on_train_begin(self, net, **kwargs):
        self.called_ = True


@pytest.mark.parametrize(
    "callbacks",
    [[Recorder(), print], [Recorder(), "early_stopping"], [("recorder", "not a callback")], [Recorder(), 3]],
    ids=["function", "string", "pair of strings", "number"],
)
@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_callbacks_that_are_not_callbacks_name_their_position(estimator_class, callbacks, data, tiny):
    X, Y = data
    with pytest.raises(TypeError, match=r"callbacks\[\d\] is .*, which is not a skorch callback"):
        tiny(estimator_class, callbacks=callbacks).fit(X[:50], target(estimator_class, Y[:50]))


@pytest.mark.parametrize("estimator_class", FAMILIES)
def test_callbacks_as_skorch_takes_them(estimator_class, data, tiny):
    """Instances, classes and (name, callback) pairs."""
    X, Y = data
    recorder = Recorder()
    callbacks = [recorder, SkipNonFiniteLoss, ("accuracy", EpochScoring("accuracy"))]
    if estimator_class is MMOEMultiOutput:
        callbacks.remove(callbacks[2])
    tiny(estimator_class, callbacks=callbacks).fit(X[:50], target(estimator_class, Y[:50]))
    assert recorder.called_


def test_fibinet_on_one_field_is_its_linear_part_without_warnings(data, tiny):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = tiny(FiBiNetClassifier).fit(X[["city"]], Y["click"])
    assert model.net_.module_.deep is None
    assert np.isfinite(model.predict_proba(X[["city"]])).all()
