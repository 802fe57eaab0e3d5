"""The ONNX export: ONNX Runtime's probabilities are predict_proba's, the encoding included."""

import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_pangu import DeepFMClassifier, DINClassifier, ESMMMultiOutput, LRClassifier, MMOEMultiOutput
from sklearn_pangu.utils import all_estimators

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")

from sklearn_pangu.export import onnx_inputs, to_onnx  # noqa: E402

#: The largest difference from predict_proba the issue allows; the graph computes the
#: encoding in float64 and the network in float32, as predict_proba does.
TOLERANCE = 1e-5
ITEMS = [f"i{k}" for k in range(12)]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n),
            "level": rng.integers(0, 4, n),
            "member": rng.random(n) < 0.5,
            "age": rng.normal(40, 12, n).round(),
            "gain": np.where(rng.random(n) < 0.7, 0.0, rng.exponential(500, n)),
            "item": rng.choice(ITEMS, n),
            "history": pd.Series(
                [[str(i) for i in rng.choice(ITEMS, size=rng.integers(0, 7))] for _ in range(n)], dtype=object
            ),
        }
    )


@pytest.fixture(scope="module")
def data():
    """Training rows with missing values, and held-out rows with everything the encoder must map."""
    X = _frame(300, 0)
    X.loc[::17, "age"] = np.nan
    X.loc[::23, "city"] = None
    y = ((X["city"] == "paris") ^ (X["age"] > 40) ^ X["member"]).astype(int).to_numpy()
    Y = np.column_stack([y, y & (X["gain"] > 0).to_numpy()])
    test = _frame(40, 1)
    test = test.astype({"city": object, "item": object})
    test.loc[0, "city"] = "tokyo"  # unseen
    test.loc[1, "city"] = None
    test.loc[2, "city"] = np.nan
    test.loc[3, "age"] = np.nan
    test.loc[4, "age"] = 1e12  # far above the range seen at fit
    test.loc[5, "gain"] = -1e300
    test.loc[6, "level"] = 9  # an unseen category of an integer column named categorical
    test.loc[7, "item"] = "i99"
    test.at[8, "history"] = ["i99", None, "i1"]
    test.at[9, "history"] = []
    test.at[10, "history"] = None
    test.at[11, "history"] = [str(i) for i in ITEMS * 2]  # longer than the longest seen at fit
    return X, y, Y, test


def _onnx_outputs(model, X) -> list[np.ndarray]:
    session = ort.InferenceSession(to_onnx(model).SerializeToString())
    return session.run(None, onnx_inputs(model, X))


def _expected(model, X) -> list[np.ndarray]:
    proba = model.predict_proba(X)
    expected = list(proba) if isinstance(proba, list) else [proba]
    if hasattr(model, "predict_cvr_proba"):
        expected.append(model.predict_cvr_proba(X))
    return expected


def _assert_same(model, X) -> None:
    outputs, expected = _onnx_outputs(model, X), _expected(model, X)
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected, strict=True):
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def _estimators() -> list:
    return [
        pytest.param(estimator_class, id=name)
        for name, estimator_class in all_estimators()
        if "max_epochs" in estimator_class().get_params()
    ]


@pytest.mark.parametrize("estimator_class", _estimators())
def test_every_estimator_matches_predict_proba(estimator_class, tiny, data):
    X, y, Y, test = data
    params = {"max_epochs": 1, "categorical_features": ["city", "level", "member", "item"]}
    if "behavior_features" in estimator_class().get_params():
        params["behavior_features"] = {"history": "item"}
    model = tiny(estimator_class, **params).fit(X, Y if "MultiOutput" in estimator_class.__name__ else y)
    _assert_same(model, test)


@pytest.mark.parametrize(
    "numeric_encoding",
    ["bucket", "scale_and_bucket", "piecewise_linear", {"age": "piecewise_linear", "gain": "bucket"}],
    ids=["bucket", "scale_and_bucket", "piecewise_linear", "by_column"],
)
@pytest.mark.parametrize("estimator_class", [DeepFMClassifier, MMOEMultiOutput])
def test_numeric_encodings(estimator_class, numeric_encoding, tiny, data):
    X, y, Y, test = data
    model = tiny(estimator_class, max_epochs=1, numeric_encoding=numeric_encoding, n_bins=4)
    model.fit(X.drop(columns="history"), Y if estimator_class is MMOEMultiOutput else y)
    _assert_same(model, test.drop(columns="history"))


@pytest.mark.parametrize("sequence_pooling", ["mean", "sum", "max"])
def test_list_fields_of_every_pooling(sequence_pooling, tiny, data):
    X, y, _, test = data
    X = X.assign(tags=["|".join(h[:2]) for h in X["history"]])
    tags = ["|".join(i for i in (h or []) if i)[:5] for h in test["history"]]
    test = test.assign(tags=["a|i1", "", None, *tags[3:]])
    model = tiny(
        DeepFMClassifier,
        max_epochs=1,
        sequence_pooling=sequence_pooling,
        multi_value_features={"tags": "|"},
        max_sequence_length={"history": 4},
        shared_vocabulary={"history": "item"},
    ).fit(X, y)
    _assert_same(model, test)


def test_category_dtype_and_bool(tiny, data):
    X, y, _, test = data
    X = X.drop(columns="history").assign(city=X["city"].astype("category"))
    test = test.drop(columns="history").assign(city=test["city"].astype("category"))
    model = tiny(LRClassifier, max_epochs=2).fit(X, y)
    _assert_same(model, test)


def test_array_input_and_dict_of_columns(tiny, data):
    X, y, _, test = data
    columns = ["city", "age", "gain"]
    model = tiny(DeepFMClassifier, max_epochs=1).fit(X[columns].to_numpy(), y)
    inputs = onnx_inputs(model, test[columns].to_numpy())
    assert list(inputs) == ["x0", "x1", "x2"]
    named = tiny(DeepFMClassifier, max_epochs=1).fit(X[columns], y)
    from_dict = onnx_inputs(named, {c: test[c].tolist() for c in columns})
    session = ort.InferenceSession(to_onnx(named).SerializeToString())
    (proba,) = session.run(None, from_dict)
    np.testing.assert_allclose(proba, named.predict_proba(test[columns]), atol=TOLERANCE)


def test_inputs_are_the_raw_columns(tiny, data):
    X, y, _, _ = data
    model = tiny(DINClassifier, max_epochs=1, behavior_features={"history": "item"}).fit(X, y)
    graph = to_onnx(model).graph
    kinds = {
        i.name: (i.type.tensor_type.elem_type, i.type.tensor_type.shape.dim[1].dim_value) for i in graph.input
    }
    import onnx

    string, double = onnx.TensorProto.STRING, onnx.TensorProto.DOUBLE
    length = int(model.encoder_.field_spec_.sequence_lengths[-1])
    assert kinds == {
        "city": (string, 1),
        "level": (double, 1),
        "member": (string, 1),
        "age": (double, 1),
        "gain": (double, 1),
        "item": (string, 1),
        "history": (string, length),
    }
    assert [o.name for o in graph.output] == ["probabilities"]


def test_one_row_and_a_batch_of_candidates(tiny, data):
    X, y, _, test = data
    model = tiny(DeepFMClassifier, max_epochs=1).fit(X, y)
    session = ort.InferenceSession(to_onnx(model).SerializeToString())
    for rows in (test.iloc[:1], test.iloc[:37]):
        (proba,) = session.run(None, onnx_inputs(model, rows))
        np.testing.assert_allclose(proba, model.predict_proba(rows), atol=TOLERANCE)


def test_writes_one_file(tiny, data, tmp_path):
    import onnx

    X, y, Y, test = data
    model = tiny(ESMMMultiOutput, max_epochs=1).fit(X, pd.DataFrame(Y, columns=["click", "buy"]))
    path = tmp_path / "esmm.onnx"
    written = to_onnx(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["esmm.onnx"]
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded)
    assert loaded == written
    assert [o.name for o in loaded.graph.output] == [
        "probabilities_click",
        "probabilities_buy",
        "cvr_probabilities",
    ]


def test_refuses_what_it_cannot_export(tiny, data):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = data
    with pytest.raises(NotFittedError):
        to_onnx(DeepFMClassifier())
    with pytest.raises(TypeError, match="LogisticRegression"):
        to_onnx(LogisticRegression().fit(X[["age", "gain"]].fillna(0), y))
    clash = tiny(LRClassifier, max_epochs=1).fit(
        X[["city", "age"]].rename(columns={"age": "probabilities"}), y
    )
    with pytest.raises(ValueError, match=r"\['probabilities'\].*Rename"):
        to_onnx(clash)
    padding = X.assign(history=[[*h, ""] for h in X["history"]])
    with pytest.raises(ValueError, match="'history' has the empty string"):
        to_onnx(tiny(LRClassifier, max_epochs=1).fit(padding[["history", "age"]], y))


def test_without_the_extra(monkeypatch, tiny, data):
    X, y, _, _ = data
    model = tiny(LRClassifier, max_epochs=1).fit(X[["city"]], y)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match=r"sklearn-pangu\[onnx\]"):
        to_onnx(model)
