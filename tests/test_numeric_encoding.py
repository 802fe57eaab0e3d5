"""Every estimator with bucketed and piecewise-linear numeric columns (``numeric_encoding``)."""

import pickle

import numpy as np
import pytest

from .test_list_fields import ESTIMATORS, _make, _positive_proba, _targets


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_estimator_fits_and_predicts_with_buckets_and_pieces(estimator_class, list_frame, tiny):
    X, tags = list_frame(120)
    rng = np.random.default_rng(1)
    X["wage"] = np.where(rng.random(len(X)) < 0.7, 0.0, rng.lognormal(size=len(X)))
    X.loc[::10, "wage"] = np.nan
    y = _targets(estimator_class, tags)
    encoding = {"price": "piecewise_linear", "wage": "scale_and_bucket"}
    model = _make(tiny, estimator_class, numeric_encoding=encoding, n_bins=4).fit(X, y)
    spec = model.encoder_.field_spec_
    assert "wage_bucket" in spec.categorical_fields
    pieces = [f for f in spec.dense_features if f.startswith("price_piece_")]
    assert 2 <= len(pieces) <= 4
    # wage and its missing indicator, then price's pieces as one field.
    assert spec.n_dense_fields == 3
    proba = _positive_proba(model, X)
    assert np.isfinite(proba).all()
    unseen = X.iloc[:3].assign(price=[-1e9, 1e9, np.nan], wage=[np.nan, 1e9, -5.0])
    assert np.isfinite(_positive_proba(model, unseen)).all()
    np.testing.assert_array_equal(_positive_proba(pickle.loads(pickle.dumps(model)), X), proba)
