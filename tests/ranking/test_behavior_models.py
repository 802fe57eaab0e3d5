"""What DIN, DIEN and BST share: reading the history against the target item."""

import pytest
from sklearn.metrics import roc_auc_score

from sklearn_pangu import BSTClassifier, DeepFMClassifier, DIENClassifier, DINClassifier
from sklearn_pangu.datasets import make_behavior_classification

COMMON = {
    "embedding_dim": 8,
    "hidden_units": (16,),
    "dropout": 0.0,
    "batch_norm": False,
    "embedding_l2": 0.0,
    "batch_size": 128,
    "learning_rate": 1e-2,
    "max_epochs": 10,
    "early_stopping": False,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def planted_interest():
    """Train and test rows with a target-dependent interest, and mean pooling's test AUC on them.

    The click depends on how many history items share the target item's group: attention to
    the target reads it; DeepFM's mean-pooled history (same columns, same sizes) blurs it. Few
    rows per user (300 users), so that the user id cannot stand in for the history.
    """
    X, y = make_behavior_classification(
        n_samples=4000,
        n_users=300,
        n_items=60,
        n_groups=6,
        max_history=10,
        interest_strength=5.0,
        random_state=0,
    )
    train, test = slice(0, 3000), slice(3000, None)
    pooled = DeepFMClassifier(shared_vocabulary={"history": "item_id"}, **COMMON).fit(X[train], y[train])
    auc_pooled = roc_auc_score(y[test], pooled.predict_proba(X[test])[:, 1])
    return X[train], X[test], y[train], y[test], auc_pooled


@pytest.mark.parametrize(
    "estimator_class, params",
    [(DINClassifier, {"attention_units": (16,)}), (DIENClassifier, {}), (BSTClassifier, {})],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_beats_mean_pooling_on_planted_target_dependent_interest(planted_interest, estimator_class, params):
    X_train, X_test, y_train, y_test, auc_pooled = planted_interest
    model = estimator_class(behavior_features={"history": "item_id"}, **params, **COMMON)
    auc = roc_auc_score(y_test, model.fit(X_train, y_train).predict_proba(X_test)[:, 1])
    assert auc > auc_pooled + 0.03, (auc, auc_pooled)
