"""The examples run, in their quick mode."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from .conftest import shared_data

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


# The gallery: each example's quick mode, with what it is meant to show.


def run_example(name: str, *args: str):
    """Run ``examples/<name>.py``'s ``main`` with ``args`` and return its result."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"](list(args))


def assert_png(path: Path) -> None:
    assert path.stat().st_size > 1000, f"{path} is (nearly) empty"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quickstart_quick(capsys):
    aucs = run_example("quickstart", "--quick")
    assert set(aucs) == {"DeepFMClassifier", "LRClassifier"}
    assert all(0.85 < auc <= 1.0 for auc in aucs.values()), aucs
    out = capsys.readouterr().out
    assert "DeepFMClassifier   test ROC AUC" in out and "epoch" in out  # verbose=1 prints the epochs


def test_pipeline_grid_search_quick(capsys):
    search = run_example("pipeline_grid_search", "--quick")
    assert search.best_params_ in list(ParameterGrid(search.param_grid))
    assert search.best_score_ > 0.8
    # The FunctionTransformer's new columns reach the estimator with their dtypes: age_band is embedded.
    encoder = search.best_estimator_[-1].encoder_
    assert "age_band" in encoder.categorical_columns_ and "capital_gains" in encoder.numeric_columns_
    assert "best parameters" in capsys.readouterr().out


def test_compare_models_roc_quick(tmp_path):
    aucs = run_example(
        "compare_models_roc",
        "--quick",
        "--data-dir",
        str(shared_data("frappe").parent),
        "--output-dir",
        str(tmp_path),
    )
    assert set(aucs) == {"LR", "DeepFM"}
    assert all(0.7 < auc <= 1.0 for auc in aucs.values()), aucs
    assert_png(tmp_path / "roc_frappe.png")


def test_learning_curves_quick(tmp_path):
    history = run_example("learning_curves", "--quick", "--output-dir", str(tmp_path))
    assert list(history.columns) == ["train_loss", "valid_loss", "valid_auc", "lr"]
    assert len(history) >= 2 and np.isfinite(history.to_numpy()).all()
    assert len(history) < 10  # early stopping ended the fit before max_epochs
    assert history["lr"].iloc[-1] < history["lr"].iloc[0]  # decayed after epochs without progress
    assert history["valid_auc"].max() > 0.8
    assert_png(tmp_path / "learning_curves.png")


def test_multitask_census_quick(tmp_path):
    results = run_example("multitask_census", "--quick", "--output-dir", str(tmp_path))
    assert set(results) == {"MMoE", "PLE"}
    for scores in results.values():
        assert scores["income"] > 0.8 and scores["never_married"] > 0.9, scores
        # mean_roc_auc_scorer is the unweighted mean of the tasks' AUCs.
        assert scores["mean"] == pytest.approx((scores["income"] + scores["never_married"]) / 2)
    assert_png(tmp_path / "multitask_census.png")


def test_esmm_aliexpress_quick(capsys):
    aucs, predictions = run_example(
        "esmm_aliexpress", "--quick", "--data-dir", str(shared_data("aliexpress_sample").parent)
    )
    assert len(aucs) == 3 and all(0.0 <= auc <= 1.0 for auc in aucs.values())
    assert ((predictions > 0) & (predictions < 1)).all().all()
    # ESMM's structure: pCTCVR = pCTR x pCVR, hence never above pCTR.
    np.testing.assert_allclose(predictions["pCTR"] * predictions["pCVR"], predictions["pCTCVR"], rtol=1e-5)
    assert (predictions["pCTCVR"] <= predictions["pCTR"] + 1e-7).all()
    assert "pCVR (conversion, clicked impressions)" in capsys.readouterr().out


def test_save_and_serve_quick(tmp_path):
    results = run_example("save_and_serve", "--quick", "--output-dir", str(tmp_path))
    np.testing.assert_array_equal(results["from_joblib"], results["expected"])
    np.testing.assert_array_equal(results["from_safe"], results["expected"])
    assert (tmp_path / "deepfm.joblib").stat().st_size > 0 and (tmp_path / "deepfm.pt").stat().st_size > 0
    served = results["served"]
    # The JSON round trip (ints for the category columns, object dtypes) predicts as the DataFrame did.
    np.testing.assert_allclose(served[:2], results["expected"][:2, 1], rtol=1e-6)
    # An unseen category, a null and an absent field are predicted, and change the prediction.
    assert 0 < served[2] < 1 and served[2] != pytest.approx(served[0])


def test_dask_search_quick(capsys):
    """The slowest example test (two worker processes import torch): about 30 s on 2 cores."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    search = run_example("dask_search", "--quick")
    assert search.best_params_ in list(ParameterGrid(search.param_grid))
    np.testing.assert_array_equal(search.cv_results_["mean_test_torch_threads"], 1.0)
    assert np.isfinite(search.cv_results_["mean_test_roc_auc"]).all() and search.best_score_ > 0.8
    assert "Dask cluster: 2 workers, 2 threads" in capsys.readouterr().out
