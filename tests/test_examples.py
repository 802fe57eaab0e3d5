"""The examples run, in their quick mode."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_demo_census_quick(capsys):
    results = runpy.run_path(str(EXAMPLES / "demo_census.py"))["main"](quick=True)
    assert set(results) == {"DeepFMClassifier", "LogisticRegression (one-hot)"}
    for auc, loss in results.values():
        assert 0.5 < auc <= 1.0 and loss > 0
    out = capsys.readouterr().out
    assert "valid_auc" in out or "train_loss" in out  # per-epoch progress
    assert "ROC AUC" in out


def test_out_of_core_parquet_trains_on_chunks(capsys):
    pytest.importorskip("pyarrow", reason="the parquet extra (pyarrow) is not installed")
    main = runpy.run_path(str(EXAMPLES / "out_of_core_parquet.py"))["main"]
    auc = main(["--n-rows", "6000", "--chunk-rows", "1000", "--passes", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("pass 1: 5 chunks trained") and lines[1].startswith("pass 2: 10 chunks")
    assert 0.5 < auc <= 1.0
