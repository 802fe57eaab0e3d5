"""Persistence: pickle and joblib record package versions; sklearn_pangu.io saves without pickling objects.

Pickle and joblib round trips of the ranking classifiers are in test_estimators.py and
joblib round trips of the multi-task estimators in test_multitask.py; this module adds
pickle for the multi-task estimators, the version records and the safe format.
"""

import copy
import functools
import json
import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import skorch
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import sklearn_pangu
from sklearn_pangu import DeepFMClassifier, FMClassifier, MMOEMultiOutput
from sklearn_pangu._base import BaseCTREstimator
from sklearn_pangu._persistence import VERSIONS_KEY, running_versions
from sklearn_pangu.io import ModelFileError, PersistenceVersionWarning, UnsafeModelFileError, load, save
from sklearn_pangu.io._codec import decode, encode
from sklearn_pangu.io._encoder_state import encoder_state, rebuild_encoder
from sklearn_pangu.io._integrity import CHECKSUMS_KEY, member_checksums
from sklearn_pangu.preprocessing import FeatureEncoder
from sklearn_pangu.utils import all_estimators

# The behaviour models need a history column: tests/test_list_fields.py saves and loads them.
ESTIMATORS = [
    cls
    for _, cls in all_estimators()
    if issubclass(cls, BaseCTREstimator) and "behavior_features" not in cls().get_params()
]
RANKING = [cls for cls in ESTIMATORS if cls.__name__.endswith("Classifier")]
MULTITASK = [cls for cls in ESTIMATORS if cls.__name__.endswith("MultiOutput")]


@pytest.fixture(scope="module")
def tiny(tiny):
    """Two epochs are enough for these tests."""
    return functools.partial(tiny, max_epochs=2)


def frame(n: int, seed: int) -> pd.DataFrame:
    """Every column kind a user brings: str, pandas str, category, bool, Int64 with pd.NA, float with NaN."""
    rng = np.random.RandomState(seed)
    visits = pd.array(rng.randint(0, 5, n), dtype="Int64")
    visits[rng.rand(n) < 0.1] = pd.NA
    age = rng.normal(40, 10, n)
    age[rng.rand(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "city": rng.choice(["Paris", "Rome", "Oslo"], n).astype(object),
            "device": pd.Series(rng.choice(["ios", "android", None], n), dtype="str"),
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "member": rng.rand(n) < 0.5,
            "visits": visits,
            "age": age,
        }
    )


@pytest.fixture(scope="module")
def data():
    """Training rows and labels, and prediction rows with categories unseen at fit."""
    X = frame(240, 0)
    rng = np.random.RandomState(1)
    click = (X["city"].eq("Paris").to_numpy() | (rng.rand(len(X)) < 0.3)).astype(int)
    conversion = click & (rng.rand(len(X)) < 0.5)
    y = np.where(click == 1, "click", "skip")
    Y = pd.DataFrame({"click": click.astype(bool), "conversion": conversion})
    X_new = frame(100, 2)
    X_new.loc[:9, "city"] = "Lima"  # unseen
    X_new["device"] = X_new["device"].astype(object)
    X_new.loc[10:19, "device"] = "web"  # unseen
    X_new["plan"] = pd.Categorical(X_new["plan"].astype(str).where(X_new.index >= 20, "team"))  # unseen
    return X, y, Y, X_new


def fit_on(model, data):
    """``model`` fitted on ``data``: the two targets for a multi-task model, else the labels."""
    X, y, Y, _ = data
    return model.fit(X, Y if type(model) in MULTITASK else y)


def assert_same_predictions(before, after, X):
    proba_before, proba_after = before.predict_proba(X), after.predict_proba(X)
    if isinstance(proba_before, list):
        assert len(proba_before) == len(proba_after)
        for a, b in zip(proba_before, proba_after, strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(proba_before, proba_after)
    np.testing.assert_array_equal(before.predict(X), after.predict(X))


def assert_same_fitted_state(before, after):
    assert type(after) is type(before)
    assert after.get_params() == before.get_params()
    for name, value in vars(before).items():
        if name.endswith("_") and not name.startswith("_") and name not in ("net_", "encoder_"):
            restored = getattr(after, name)
            if isinstance(value, np.ndarray):
                assert restored.dtype == value.dtype, name
                np.testing.assert_array_equal(restored, value)
            elif isinstance(value, list):
                for a, b in zip(value, restored, strict=True):
                    np.testing.assert_array_equal(a, b)
                    assert np.asarray(a).dtype == np.asarray(b).dtype
            else:
                assert restored == value and type(restored) is type(value), name
    assert after.encoder_.field_spec_ == before.encoder_.field_spec_
    assert len(after.history_) == len(before.history_)


# ------------------------------------------------------------- round trips
@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_safe_round_trip_predicts_identically(estimator_class, data, tmp_path, tiny):
    X, _, _, X_new = data
    model = fit_on(tiny(estimator_class), data)
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert_same_fitted_state(model, loaded)
    assert_same_predictions(model, loaded, X)
    assert_same_predictions(model, loaded, X_new)
    if estimator_class in MULTITASK:  # ranking pickles are checked in test_estimators.py
        assert_same_predictions(model, pickle.loads(pickle.dumps(model)), X_new)


@pytest.mark.parametrize("labels", [[False, True], [0.0, 1.0], ["no", "yes"], [3, 7]])
def test_safe_round_trip_keeps_label_types(labels, data, tmp_path, tiny):
    X, y, _, _ = data
    labels = np.asarray(labels)
    model = tiny(FMClassifier, max_epochs=1).fit(X, labels[(y == "click").astype(int)])
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert type(loaded.predict(X)[0]) is type(model.predict(X)[0])


def test_safe_round_trip_keeps_each_tasks_labels(data, tmp_path, tiny):
    X, _, Y, _ = data
    Y = Y.assign(click=np.where(Y["click"], "yes", "no"))
    model = tiny(MMOEMultiOutput, max_epochs=1).fit(X, Y)
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert loaded.task_names_ == ["click", "conversion"]
    assert [c.dtype for c in loaded.classes_] == [c.dtype for c in model.classes_]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "make_input, categorical_features",
    [
        (lambda X: X[["visits", "age", "city"]], ["visits", "city"]),  # an Int64 id column as categorical
        (lambda X: X[["age", "visits"]].astype(float).to_numpy(), [1]),  # ndarray, index
        (lambda X: X[["age", "visits"]].astype(float).to_numpy(), "from_dtype"),  # all dense
        (lambda X: X[["city", "device"]].astype(object).to_numpy(), "from_dtype"),  # object ndarray
        (lambda X: X[["age", "city"]].set_axis([0, 1], axis=1), [False, True]),  # int column names
    ],
)
def test_safe_round_trip_of_other_inputs(make_input, categorical_features, data, tmp_path, tiny):
    X, y, _, X_new = data
    model = tiny(FMClassifier, max_epochs=1, categorical_features=categorical_features)
    model.fit(make_input(X), y)
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert hasattr(loaded, "feature_names_in_") == hasattr(model, "feature_names_in_")
    assert loaded.encoder_.categorical_columns_ == model.encoder_.categorical_columns_
    np.testing.assert_array_equal(
        loaded.predict_proba(make_input(X_new)), model.predict_proba(make_input(X_new))
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"numeric_encoding": "bucket", "n_bins": 4, "min_frequency": 0.1},
        {"numeric_encoding": "scale_and_bucket", "n_bins": 4},
        {"numeric_encoding": "piecewise_linear", "n_bins": 4},
    ],
)
def test_encoder_state_is_json_and_rebuilds_the_same_encoding(params, data):
    X, _, _, X_new = data
    encoder = FeatureEncoder(**params).fit(X)
    state = json.loads(json.dumps(encoder_state(encoder), allow_nan=False))
    rebuilt = rebuild_encoder(state)
    for rows in (X, X_new):
        for a, b in zip(encoder.encode(rows), rebuilt.encode(rows), strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rebuilt.get_feature_names_out(), encoder.get_feature_names_out())
    np.testing.assert_array_equal(rebuilt.transform(X_new), encoder.transform(X_new))
    assert rebuilt.get_params() == encoder.get_params()


@pytest.mark.parametrize(
    "value",
    [
        None,
        (8, 4),
        [1, (2.5, "a")],
        {"a": (1,), 2: None},
        float("nan"),
        -float("inf"),
        np.float32(0.1),
        np.int64(3),
        np.bool_(True),
        np.array([["a", "bc"]]),
        np.array([1.0, np.nan]),
        np.array([True, False]),
        np.array(["x", 1, 2.5, None, True], dtype=object),
        np.array([], dtype=np.int64),
    ],
    ids=repr,
)
def test_codec_round_trips_types(value):
    decoded = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert type(decoded) is type(value)
    if isinstance(value, np.ndarray):
        assert decoded.dtype == value.dtype and decoded.shape == value.shape
        np.testing.assert_array_equal(decoded, value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(decoded)
    else:
        assert decoded == value


def test_partial_fit_continues_after_safe_load_as_after_pickle(data, tmp_path, tiny):
    X, y, _, X_new = data
    model = tiny(FMClassifier).fit(X, y)
    save(model, tmp_path / "model.pt")
    from_file, from_pickle = load(tmp_path / "model.pt"), pickle.loads(pickle.dumps(model))
    for estimator in (from_file, from_pickle):
        estimator.partial_fit(X, y)
    assert_same_predictions(from_pickle, from_file, X_new)
    assert len(from_file.history_) == 3


def test_unfitted_estimator_round_trips_its_parameters(tmp_path):
    model = DeepFMClassifier(hidden_units=(8, 4), embedding_dim=4, categorical_features=["a"], device="cpu")
    save(model, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert loaded.get_params() == model.get_params()
    assert isinstance(loaded.hidden_units, tuple)
    with pytest.raises(NotFittedError):
        loaded.predict(pd.DataFrame({"a": ["x"]}))


# -------------------------------------------------------------- safe save
class CountEpochs(Callback):
    pass


@pytest.mark.parametrize(
    "name, value",
    [
        ("optimizer", torch.optim.Adam),
        ("callbacks", [CountEpochs()]),
        ("random_state", np.random.RandomState(0)),
    ],
)
def test_save_rejects_parameters_that_are_not_plain_data(name, value, tmp_path):
    model = FMClassifier(**{name: value})
    with pytest.raises(ValueError, match=f"parameter '{name}'.*cannot store"):
        save(model, tmp_path / "model.pt")
    assert not (tmp_path / "model.pt").exists()


def test_save_rejects_what_load_could_not_rebuild(tmp_path):
    class MyFM(FMClassifier):
        pass

    for obj in (FeatureEncoder(), MyFM(), object()):
        with pytest.raises(TypeError, match="public estimators"):
            save(obj, tmp_path / "model.pt")


# ---------------------------------------------------------- untrusted files
class WriteMarker:
    """Unpickling this runs ``open(marker, 'w')``: it creates the marker file."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write_pickle(obj, path, protocol=None):
    with open(path, "wb") as file:
        pickle.dump(obj, file, protocol=protocol)


WRITERS = {
    "pickle": _write_pickle,
    "pickle protocol 2": lambda obj, path: _write_pickle(obj, path, protocol=2),
    "joblib": lambda obj, path: joblib.dump(obj, path),
    "torch.save": lambda obj, path: torch.save({"meta": "{}", "x": obj}, path),
    "torch.save legacy": lambda obj, path: torch.save(obj, path, _use_new_zipfile_serialization=False),
}
#: Ordinary loaders, which do run the payload.
READERS = {
    "pickle": lambda path: pickle.loads(path.read_bytes()),
    "pickle protocol 2": lambda path: pickle.loads(path.read_bytes()),
    "joblib": joblib.load,
    "torch.save": lambda path: torch.load(path, weights_only=False),
    "torch.save legacy": lambda path: torch.load(path, weights_only=False),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_load_refuses_a_file_that_would_run_code(writer, tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "model.pt"
    WRITERS[writer](WriteMarker(marker), path)
    with pytest.raises(UnsafeModelFileError, match=r"Refusing to load .*model\.pt.*not a model file") as info:
        load(path)
    if writer not in ("pickle", "joblib"):  # torch stops at the framing of pickle protocol 4+ already
        assert re.search(r"GLOBAL (io|builtins)\.open was not an allowed global", str(info.value))
    assert not marker.exists()
    # The payload is live: an ordinary unpickler runs it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        READERS[writer](path)
    assert marker.exists()


def test_refusal_is_a_value_error_and_an_unpickling_error(tmp_path):
    _write_pickle(WriteMarker(tmp_path / "marker"), tmp_path / "model.pkl")
    for error in (ValueError, pickle.UnpicklingError, ModelFileError):
        with pytest.raises(error):
            load(tmp_path / "model.pkl")


def test_load_refuses_a_joblib_dump_of_a_real_model(data, tmp_path, tiny):
    model = fit_on(tiny(FMClassifier, max_epochs=1), data)
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(UnsafeModelFileError, match="model.joblib"):
        load(tmp_path / "model.joblib")


def _rewrite_meta(path, change):
    """Edit the metadata as someone tampering with the file would: checksums recomputed."""
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["meta"])
    change(meta)
    payload["meta"] = json.dumps(meta)
    payload[CHECKSUMS_KEY] = member_checksums(payload)
    torch.save(payload, path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(estimator="FeatureEncoder"), "names the class 'FeatureEncoder'"),
        (lambda m: m.update(estimator="os.system"), "names the class 'os.system'"),
        (lambda m: m.update(format="pickle"), "not a model file"),
        (lambda m: m.update(format_version=99), "newer than"),
        (lambda m: m["attributes"].update(predict=1), "unexpected fitted attribute 'predict'"),
        (lambda m: m["params"].update(no_such_param=1), "could not be rebuilt"),
        (
            lambda m: m["network"]["module"]["items"][0].__setitem__(1, 3),
            "could not be rebuilt as a FMClassifier",
        ),
        (lambda m: m["params"].update(max_epochs={"__type__": "object", "module": "os"}), "unknown tagged"),
    ],
)
def test_load_rejects_tampered_metadata(change, message, data, tmp_path, tiny):
    save(fit_on(tiny(FMClassifier, max_epochs=1), data), tmp_path / "model.pt")
    _rewrite_meta(tmp_path / "model.pt", change)
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "model.pt")


@pytest.mark.parametrize("content", [b"", b"not a model", None])
def test_load_rejects_files_that_are_not_models(content, tmp_path):
    path = tmp_path / "model.pt"
    if content is None:
        torch.save({"weights": torch.zeros(2)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a model file"):
        load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")


# ------------------------------------------------------------------ devices
def test_model_saved_for_a_missing_gpu_loads_on_cpu(data, tmp_path, tiny):
    X, _, _, _ = data
    model = fit_on(tiny(FMClassifier, max_epochs=1), data)
    save(model, tmp_path / "model.pt")
    _rewrite_meta(tmp_path / "model.pt", lambda m: m["params"].update(device="cuda:7"))
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.warns(UserWarning, match="device='cuda:7', which this machine lacks.*'cpu'"):
        loaded = load(tmp_path / "model.pt")
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded = load(tmp_path / "model.pt", map_location="cpu")  # explicit: no warning
    assert loaded.device == "cpu"
    with pytest.raises(ValueError, match="cuda:7"):
        load(tmp_path / "model.pt", map_location="cuda:7")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_trained_model_loads_on_cpu(data, tmp_path, tiny):
    X, _, Y, _ = data
    model = tiny(MMOEMultiOutput, device="cuda").fit(X, Y)
    save(model, tmp_path / "model.pt")
    on_gpu = load(tmp_path / "model.pt")
    assert on_gpu.device == "cuda" and next(on_gpu.net_.module_.parameters()).is_cuda
    assert_same_predictions(model, on_gpu, X)
    on_cpu = load(tmp_path / "model.pt", map_location="cpu")
    assert on_cpu.device == "cpu" and not next(on_cpu.net_.module_.parameters()).is_cuda
    for a, b in zip(model.predict_proba(X), on_cpu.predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


# ----------------------------------------------------------------- versions
FAKE = "99.0.0"


def test_pickle_records_the_versions(data, tiny):
    model = fit_on(tiny(FMClassifier, max_epochs=1), data)
    state = model.__getstate__()
    assert state[VERSIONS_KEY] == running_versions()
    assert set(state[VERSIONS_KEY]) == {"sklearn_pangu", "torch", "scikit-learn", "skorch"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(model))
        copy.deepcopy(model)
        clone(model)
    assert VERSIONS_KEY not in vars(restored)
    assert sorted(vars(restored)) == sorted(vars(model))


@pytest.mark.parametrize("via", ["pickle", "joblib", "io"])
def test_loading_under_other_versions_warns_naming_both(via, monkeypatch, tmp_path):
    model = MMOEMultiOutput(embedding_dim=4)
    path = tmp_path / "model"
    if via == "pickle":
        path.write_bytes(pickle.dumps(model))
    elif via == "joblib":
        joblib.dump(model, path)
    else:
        save(model, path)
    real_torch, real_skorch = str(torch.__version__), skorch.__version__
    monkeypatch.setattr(torch, "__version__", FAKE)
    monkeypatch.setattr(skorch, "__version__", FAKE)
    reload = {"pickle": lambda p: pickle.loads(p.read_bytes()), "joblib": joblib.load, "io": load}[via]
    with pytest.warns(PersistenceVersionWarning) as record:
        reload(path)
    (warning,) = [w.message for w in record if isinstance(w.message, PersistenceVersionWarning)]
    message = str(warning)
    assert f"torch {real_torch} (saved) vs {FAKE} (running)" in message
    assert f"skorch {real_skorch} (saved) vs {FAKE} (running)" in message
    assert "sklearn_pangu" not in message and "scikit-learn" not in message
    assert warning.saved_versions == {"torch": real_torch, "skorch": real_skorch}
    assert warning.running_versions == {"torch": FAKE, "skorch": FAKE}


@pytest.mark.parametrize("via", ["pickle", "io"])
def test_model_saved_under_other_versions_warns(via, monkeypatch, tmp_path):
    model = FMClassifier()
    with monkeypatch.context() as patch:
        patch.setattr(sklearn_pangu, "__version__", "0.0.1")
        patch.setattr("sklearn.__version__", "1.0")
        if via == "io":
            save(model, tmp_path / "model.pt")
        else:
            blob = pickle.dumps(model)
    with pytest.warns(PersistenceVersionWarning, match=r"sklearn_pangu 0\.0\.1 \(saved\) vs") as record:
        load(tmp_path / "model.pt") if via == "io" else pickle.loads(blob)
    assert "scikit-learn 1.0 (saved)" in str(record[0].message)


@pytest.mark.parametrize("via", ["pickle", "io"])
def test_same_versions_do_not_warn(via, data, tmp_path, tiny):
    model = fit_on(tiny(FMClassifier, max_epochs=1), data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if via == "io":
            save(model, tmp_path / "model.pt")
            load(tmp_path / "model.pt")
        else:
            pickle.loads(pickle.dumps(model))


def test_old_pickles_without_versions_load_silently():
    model = FMClassifier(embedding_dim=3)
    state = model.__getstate__()
    del state[VERSIONS_KEY]
    restored = FMClassifier.__new__(FMClassifier)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored.__setstate__(state)
    assert restored.get_params() == model.get_params()
