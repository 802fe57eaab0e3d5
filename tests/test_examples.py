"""The examples run, in their quick mode."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_demo_census_quick(capsys):
    results = runpy.run_path(str(EXAMPLES / "demo_census.py"))["main"](quick=True)
    assert set(results) == {"DeepFMClassifier", "LogisticRegression (one-hot)"}
    for auc, loss in results.values():
        assert 0.5 < auc <= 1.0 and loss > 0
    out = capsys.readouterr().out
    assert "valid_auc" in out or "train_loss" in out  # per-epoch progress
    assert "ROC AUC" in out
