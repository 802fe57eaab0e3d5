"""What is saved is what was fitted; a warm start continues the fitted network or refuses.

``set_params`` after ``fit`` changes what the next ``fit`` builds, never the fitted
model: saving and loading give back the fitted network, and a warm start that cannot
honour a changed parameter says so, naming it. Numpy scalars, which searches hand to
the best estimator, behave as the Python numbers they equal.
"""

import functools
from numbers import Integral, Real

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from sklearn_pangu import DeepFMClassifier, LRClassifier, MMOEMultiOutput
from sklearn_pangu._base import BaseCTREstimator
from sklearn_pangu.io import load, save
from sklearn_pangu.utils import all_estimators

# The behaviour models need a history column: tests/test_list_fields.py covers them.
ESTIMATORS = [
    cls
    for _, cls in all_estimators()
    if issubclass(cls, BaseCTREstimator) and "behavior_features" not in cls().get_params()
]


@pytest.fixture(scope="module")
def tiny(tiny):
    """One epoch is enough for these tests."""
    return functools.partial(tiny, max_epochs=1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 200
    X = pd.DataFrame(
        {
            "city": rng.choice(["Paris", "Rome", "Oslo"], n).astype(object),
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "age": rng.normal(40, 10, n),
        }
    )
    click = ((X["city"] == "Paris") | (rng.rand(n) < 0.3)).to_numpy()
    Y = pd.DataFrame({"click": click, "buy": click & (rng.rand(n) < 0.5)})
    return X, Y


def target(estimator_class, Y):
    return Y if estimator_class.__name__.endswith("MultiOutput") else Y["click"].to_numpy()


def assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(np.asarray(a.predict_proba(X)), np.asarray(b.predict_proba(X)))


def other_value(name, value):
    """A valid value of the parameter ``name`` other than ``value``, for a set_params after fit."""
    if name.endswith("_units") or name in ("conv_filters", "conv_kernel_widths"):
        return tuple(int(u) + 2 for u in value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, Integral):
        return value + 2 if name == "num_heads" else value + 1
    if isinstance(value, Real) and 0 < value < 1:
        return value / 2
    if isinstance(value, Real):
        return value * 2
    return value


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_a_file_saved_after_set_params_loads_the_fitted_model(estimator_class, data, tmp_path, tiny):
    """Every architecture parameter, the optimizer and the precision changed after fit, then saved."""
    X, Y = data
    model = tiny(estimator_class).fit(X, target(estimator_class, Y))
    expected = model.predict_proba(X)
    params = model.get_params()
    changes = {
        name: other_value(name, value) for name, value in model._module_params().items() if name in params
    }
    changes.update(optimizer="sgd", mixed_precision="bfloat16", learning_rate=np.float64(0.01))
    model.set_params(**changes)
    np.testing.assert_array_equal(np.asarray(model.predict_proba(X)), np.asarray(expected))
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    np.testing.assert_array_equal(np.asarray(loaded.predict_proba(X)), np.asarray(expected))
    assert loaded.get_params() == model.get_params()


def as_numpy_scalars(params: dict) -> dict:
    """Every number among ``params`` as the numpy scalar a search would hand over."""

    def convert(value):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, Integral):
            return np.int64(value)
        if isinstance(value, Real):
            return np.float64(value)
        if isinstance(value, tuple):
            return tuple(convert(v) for v in value)
        return value

    return {name: convert(value) for name, value in params.items()}


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_numpy_scalar_parameters_fit_save_and_load(estimator_class, data, tmp_path, tiny):
    X, Y = data
    y = target(estimator_class, Y)
    plain = tiny(estimator_class, learning_rate_decay=0.5, early_stopping=True, validation_fraction=0.2)
    if "task_weights" in plain.get_params():
        plain.set_params(task_weights=(1.0, 0.5))
    model = estimator_class(**as_numpy_scalars(plain.get_params()))
    assert isinstance(model.learning_rate, np.float64)
    model.fit(X, y)
    assert_same_predictions(model, plain.fit(X, y), X)
    save(model, tmp_path / "model.pt")
    assert_same_predictions(load(tmp_path / "model.pt"), model, X)
    # ... and training goes on from the loaded file as from the model.
    loaded = load(tmp_path / "model.pt")
    assert_same_predictions(loaded.partial_fit(X, y), model.partial_fit(X, y), X)


WARM_CHANGES = {
    DeepFMClassifier: {"hidden_units": (16,), "embedding_dim": 6, "dropout": 0.5, "batch_norm": False},
    MMOEMultiOutput: {"num_experts": 3, "expert_units": (16,), "tower_units": (8,), "dropout": 0.5},
}


@pytest.mark.parametrize("how", ["warm fit", "partial_fit"])
@pytest.mark.parametrize(
    ("estimator_class", "name"), [(cls, name) for cls, changes in WARM_CHANGES.items() for name in changes]
)
def test_a_warm_start_refuses_a_changed_architecture_naming_it(estimator_class, name, how, data, tiny):
    X, Y = data
    y = target(estimator_class, Y)
    model = tiny(estimator_class).fit(X, y)
    expected = model.predict_proba(X)
    model.set_params(**{name: WARM_CHANGES[estimator_class][name]}, warm_start=True)
    with pytest.raises(ValueError, match=rf"{name}=.*the fitted network has.*warm_start=False"):
        model.partial_fit(X, y) if how == "partial_fit" else model.fit(X, y)
    np.testing.assert_array_equal(np.asarray(model.predict_proba(X)), np.asarray(expected))
    # Set back, the warm start goes on.
    model.set_params(**{name: tiny(estimator_class).get_params()[name]})
    model.partial_fit(X, y) if how == "partial_fit" else model.fit(X, y)
    # A cold fit builds the new network.
    model.set_params(**{name: WARM_CHANGES[estimator_class][name]}, warm_start=False).fit(X, y)


@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput])
def test_a_warm_start_refuses_changed_categorical_features(estimator_class, data, tiny):
    X, Y = data
    y = target(estimator_class, Y)
    model = tiny(estimator_class, warm_start=True).fit(X, y)
    model.set_params(categorical_features=["city", "plan", "age"])
    with pytest.raises(ValueError, match="categorical_features=.*the fitted encoder has 'from_dtype'"):
        model.fit(X, y)
    model.set_params(categorical_features=np.array(["from_dtype"])[0]).fit(X, y)


@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput])
def test_numeric_encoding_reaches_the_encoder_and_a_warm_start_refuses_a_change(estimator_class, data, tiny):
    X, Y = data
    y = target(estimator_class, Y)
    model = tiny(estimator_class, numeric_encoding={"age": "scale_and_bucket"}, n_bins=4, warm_start=True)
    model.fit(X, y)
    assert "age_bucket" in model.encoder_.field_spec_.categorical_fields
    assert "age" in model.encoder_.field_spec_.dense_features
    assert np.isfinite(np.asarray(model.predict_proba(X))).all()
    model.set_params(n_bins=8)
    with pytest.raises(ValueError, match="n_bins=8.*the fitted encoder has 4"):
        model.fit(X, y)


@pytest.mark.parametrize("numeric_encoding", ["scale_and_bucket", "piecewise_linear"])
def test_a_linear_model_learns_a_non_monotone_number_from_its_buckets_or_pieces(numeric_encoding):
    # A click when |x| < 0.7: no function linear in x separates it; one per bucket or piece does.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"c": rng.choice(["a", "b"], 3000), "x": rng.normal(size=3000)})
    y = (X["x"].abs() < 0.7).astype(int)
    params = {"max_epochs": 20, "learning_rate": 0.05, "batch_size": 256, "random_state": 0}
    scores = {}
    for encoding in ("scale", numeric_encoding):
        model = LRClassifier(numeric_encoding=encoding, n_bins=8, **params).fit(X[:2000], y[:2000])
        scores[encoding] = roc_auc_score(y[2000:], model.predict_proba(X[2000:])[:, 1])
    assert scores["scale"] < 0.6 and scores[numeric_encoding] > 0.95, scores


class CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput])
def test_a_warm_start_honours_batch_size_and_callbacks(estimator_class, data, tiny):
    """Parameters of training rather than of the network take effect in a warm start."""
    X, Y = data
    y = target(estimator_class, Y)
    model = tiny(estimator_class, warm_start=True, batch_size=64, max_epochs=1).fit(X, y)
    assert len(model.history_[-1]["batches"]) == 4  # 200 rows
    counter = CountEpochs()
    model.set_params(batch_size=100, callbacks=[counter], max_epochs=2).fit(X, y)
    assert [len(epoch["batches"]) for epoch in model.history_[-2:]] == [2, 2]
    assert counter.epochs_ == 2


def test_a_warm_start_honours_changed_task_weights_and_saves_them(data, tmp_path, tiny):
    X, Y = data
    model = tiny(MMOEMultiOutput, warm_start=True).fit(X, Y)
    model.set_params(task_weights=(1.0, 0.0)).fit(X, Y)
    assert model.net_.criterion_.task_weights.tolist() == [1.0, 0.0]
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert loaded.net_.criterion_.task_weights.tolist() == [1.0, 0.0]
    assert_same_predictions(loaded, model, X)
    assert_same_predictions(loaded.fit(X, Y), model.fit(X, Y), X)
