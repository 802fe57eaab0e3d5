"""Property-based bad input: random frames, dtypes, missing values, unseen categories, extreme numbers.

Whatever the frame, ``fit`` and ``predict_proba`` either succeed with finite
probabilities in [0, 1], or raise a ``ValueError`` or ``TypeError`` naming the column
at fault, and they raise exactly when the input holds something the documented
rules reject (an infinite number, or text that is not a number in a numeric column).
"""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu.preprocessing import FeatureEncoder

KINDS = ("float", "int", "Int64", "boolean", "bool", "str", "object", "category")
NUMERIC_KINDS = ("float", "int", "Int64")
EXTREMES = (1e300, -1e300, 1.7e308, -1.7e308, 1e-300, 5e-324, 0.0, -0.0)
ODD_STRINGS = ("", " ", "日本語", "🙂 café", "x" * 10_000, "nan", "None", "0", "1.0")
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def tiny(tiny):
    """One epoch of batches of 32: these tests fit many small random frames."""
    return functools.partial(tiny, max_epochs=1, batch_size=32)


def _column(kind: str, n: int, rng: np.random.Generator, *, vocab: str, p_missing: float, extreme: bool):
    """``n`` values of one column kind; ``vocab`` prefixes the categories so two calls can differ."""
    missing = rng.random(n) < p_missing
    words = np.array([f"{vocab}{i}" for i in range(6)] + list(ODD_STRINGS), dtype=object)
    if kind == "float":
        values = rng.normal(0.0, 10.0, n)
        if extreme:
            values = np.where(rng.random(n) < 0.5, rng.choice(EXTREMES, n), values)
        return np.where(missing, np.nan, values)
    if kind == "int":
        high = 2**62 if extreme else 10
        return rng.integers(-high, high, n)
    if kind == "Int64":
        values = pd.array(rng.integers(0, 10, n), dtype="Int64")
        values[missing] = pd.NA
        return values
    if kind == "boolean":
        values = pd.array(rng.random(n) < 0.5, dtype="boolean")
        values[missing] = pd.NA
        return values
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "str":
        return pd.Series(np.where(missing, None, rng.choice(words, n)), dtype="str")
    if kind == "object":  # strings, ints, floats and None mixed: a categorical column
        mixed = np.array([*words[:4], 3, 3.0, 7, 2.5], dtype=object)
        return pd.Series(np.where(missing, None, rng.choice(mixed, n)), dtype=object)
    return pd.Categorical(np.where(missing, None, rng.choice(words, n)))


@st.composite
def fit_and_predict_frames(draw):
    """A fit frame, a predict frame with the same columns, and the columns the predict frame breaks."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    n_fit = draw(st.integers(20, 60))
    n_predict = draw(st.sampled_from([0, 1, 2, 17]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    unseen = draw(st.booleans())
    fit, predict, broken = {}, {}, []
    for j, kind in enumerate(kinds):
        name = f"c{j}_{kind}"
        fit[name] = _column(
            kind,
            n_fit,
            rng,
            vocab="a",
            p_missing=draw(st.sampled_from([0.0, 0.2, 1.0])),
            extreme=draw(st.booleans()),
        )
        values = _column(
            kind,
            n_predict,
            rng,
            vocab="b" if unseen else "a",
            p_missing=draw(st.sampled_from([0.0, 0.3])),
            extreme=draw(st.booleans()),
        )
        if kind in NUMERIC_KINDS and n_predict:
            change = draw(st.sampled_from(["none", "as_text", "inf", "not_a_number"]))
            if change != "none":
                text = [None if pd.isna(v) else str(v) for v in values]
                values = pd.Series(text, dtype=object)
                if change == "inf":
                    values.iloc[0] = draw(st.sampled_from([np.inf, -np.inf, "inf", "-1e999"]))
                    broken.append(name)
                elif change == "not_a_number":
                    values.iloc[0] = draw(st.sampled_from(["forty", "1,5", "NA"]))
                    broken.append(name)
        predict[name] = values
    return pd.DataFrame(fit), pd.DataFrame(predict), broken


def _labels(draw_kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    bits = rng.integers(0, 2, n)
    bits[:2] = [0, 1]  # both classes
    return {
        "int": bits,
        "str": np.array(["no", "yes"], dtype=object)[bits],
        "bool": bits.astype(bool),
        "float": bits.astype(float),
    }[draw_kind]


def _check(model, y, X_fit, X_predict, broken) -> None:
    """Fit and predict; either finite probabilities, or a clear error exactly when ``broken``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow of a saturated sigmoid
        model.fit(X_fit, y)
        try:
            proba = model.predict_proba(X_predict)
        except (ValueError, TypeError) as exc:
            assert broken, f"unexpected error: {exc!r}"
            assert any(name in str(exc) for name in broken), str(exc)
            event("a clear error")
            return
    assert not broken, f"{broken} were accepted"
    event("finite probabilities")
    for p in proba if isinstance(proba, list) else [proba]:
        assert p.shape == (len(X_predict), 2)
        assert np.isfinite(p).all()
        assert ((p >= 0) & (p <= 1)).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
@SETTINGS
@given(frames=fit_and_predict_frames(), label_kind=st.sampled_from(["int", "str", "bool", "float"]))
def test_ranking_estimator_on_random_frames(tiny, frames, label_kind):
    X_fit, X_predict, broken = frames
    y = _labels(label_kind, len(X_fit), np.random.default_rng(len(X_fit)))
    _check(tiny(DeepFMClassifier, hidden_units=(8,)), y, X_fit, X_predict, broken)


@pytest.mark.filterwarnings("ignore::UserWarning")
@SETTINGS
@given(frames=fit_and_predict_frames(), label_kinds=st.tuples(*[st.sampled_from(["int", "str", "bool"])] * 2))
def test_multitask_estimator_on_random_frames(tiny, frames, label_kinds):
    X_fit, X_predict, broken = frames
    rng = np.random.default_rng(len(X_fit))
    Y = pd.DataFrame({f"task_{t}": _labels(kind, len(X_fit), rng) for t, kind in enumerate(label_kinds)})
    model = tiny(MMOEMultiOutput, expert_units=(8,), num_experts=2, tower_units=(4,))
    _check(model, Y, X_fit, X_predict, broken)


@SETTINGS
@given(frames=fit_and_predict_frames(), numeric_encoding=st.sampled_from(["scale", "bucket"]))
def test_encoder_codes_stay_in_range_on_random_frames(frames, numeric_encoding):
    X_fit, X_predict, broken = frames
    encoder = FeatureEncoder(numeric_encoding=numeric_encoding, n_bins=4).fit(X_fit)
    spec = encoder.field_spec_
    try:
        codes, dense = encoder.encode(X_predict)
    except (ValueError, TypeError) as exc:
        assert broken and any(name in str(exc) for name in broken), str(exc)
        return
    assert not broken
    assert codes.shape == (len(X_predict), spec.n_categorical)
    assert ((codes >= 0) & (codes < np.array(spec.cardinalities, dtype=np.int64))).all()
    assert dense.shape == (len(X_predict), spec.n_dense)
    assert np.isfinite(dense).all()
