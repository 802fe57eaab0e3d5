"""The examples run in their quick mode, and keep the format of the documentation's gallery."""

import ast
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import ParameterGrid

from .conftest import shared_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
#: The scripts the documentation build runs (sphinx-gallery's filename_pattern in docs/conf.py).
GALLERY_RUN = [script for script in SCRIPTS if script.name.startswith("plot_")]

# The examples end with plt.show(), which the Agg backend of the tests cannot do.
pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


def run_script(name: str, *args: str, monkeypatch) -> dict:
    """Run ``examples/<name>.py`` as ``python examples/<name>.py ARGS`` would; return its globals."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)  # plt.show() must not open a window
    import matplotlib.pyplot as plt

    plt.close("all")
    path = EXAMPLES / f"{name}.py"
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    return runpy.run_path(str(path), run_name="__main__")


def figures() -> list:
    """The open matplotlib figures, closed as they are returned."""
    import matplotlib.pyplot as plt

    open_figures = [plt.figure(number) for number in plt.get_fignums()]
    plt.close("all")
    return open_figures


# The format of the gallery: cheap checks, no documentation build.


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_example_has_gallery_format(script):
    """A title docstring (a title underlined with '='), cells, and an option for a quick run."""
    source = script.read_text()
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring is not None, "no module docstring: sphinx-gallery needs one for the page's text"
    title, underline = docstring.strip("\n").splitlines()[:2]
    assert re.fullmatch(r"=+", underline) and len(underline) == len(title), (
        f"the docstring must start with a title underlined by as many '=': {title!r}, {underline!r}"
    )
    assert source.count("\n# %%\n") >= 2, "code and prose in '# %%' cells"
    assert '"--quick"' in source, "every example takes --quick"


def test_gallery_runs_the_plot_scripts_in_quick_mode():
    """docs/conf.py runs the plot_*.py scripts, each with --quick, in the order of docs/_gallery.py."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import _gallery
    finally:
        sys.path.remove(str(ROOT / "docs"))
    assert _gallery.quick_argv({}, {}) == ["--quick"]
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert '"filename_pattern": r"/plot_"' in conf and '"reset_argv": "_gallery.quick_argv"' in conf
    assert GALLERY_RUN and len(GALLERY_RUN) < len(SCRIPTS)
    # Every script has its place in the gallery's order, and the order names no missing script.
    assert sorted(_gallery.FIRST) == [script.name for script in SCRIPTS]


def test_gallery_header_names_the_scripts_not_run():
    """examples/README.rst, the gallery's header, says which scripts the build does not run, and why."""
    readme = (EXAMPLES / "README.rst").read_text()
    for script in SCRIPTS:
        if script not in GALLERY_RUN:
            assert f"``{script.name}``" in readme, script.name


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_recorded_figures_exist(script):
    """A script the build does not run shows a recorded figure: the file is committed."""
    for path in re.findall(r"^# sphinx_gallery_thumbnail_path = \"(.+)\"$", script.read_text(), re.M):
        assert (ROOT / "docs" / path).is_file(), path
    for path in re.findall(r"^# \.\. image:: /(.+)$", script.read_text(), re.M):
        assert (ROOT / "docs" / path).is_file(), path


# Each example's quick mode, with what it is meant to show.


def test_quickstart_quick(capsys, monkeypatch):
    aucs = run_script("plot_quickstart", "--quick", monkeypatch=monkeypatch)["aucs"]
    assert set(aucs) == {"DeepFMClassifier", "LRClassifier"}
    assert all(0.85 < auc <= 1.0 for auc in aucs.values()), aucs
    out = capsys.readouterr().out
    assert "DeepFMClassifier   test ROC AUC" in out and "epoch" in out  # verbose=1 prints the epochs
    (roc,) = figures()
    assert len(roc.axes[0].get_lines()) == 3  # a curve per model, and chance


def test_demo_census_quick(capsys, monkeypatch):
    results = run_script("demo_census", "--quick", monkeypatch=monkeypatch)["results"]
    assert set(results) == {"DeepFMClassifier", "LogisticRegression (one-hot)"}
    for auc, loss in results.values():
        assert 0.5 < auc <= 1.0 and loss > 0
    out = capsys.readouterr().out
    assert "valid_auc" in out or "train_loss" in out  # per-epoch progress
    assert "ROC AUC" in out


def test_pipeline_grid_search_quick(capsys, monkeypatch):
    search = run_script("plot_pipeline_grid_search", "--quick", monkeypatch=monkeypatch)["search"]
    assert search.best_params_ in list(ParameterGrid(search.param_grid))
    assert search.best_score_ > 0.8
    # The FunctionTransformer's new columns reach the estimator with their dtypes: age_band is embedded.
    encoder = search.best_estimator_[-1].encoder_
    assert "age_band" in encoder.categorical_columns_ and "capital_gains" in encoder.numeric_columns_
    assert "best parameters" in capsys.readouterr().out
    (heatmap, _colorbar) = figures()[0].axes
    assert heatmap.get_images()[0].get_array().shape == (2, 2)  # the grid's mean scores


def test_learning_curves_quick(monkeypatch):
    history = run_script("plot_learning_curves", "--quick", monkeypatch=monkeypatch)["history"]
    assert list(history.columns) == ["train_loss", "valid_loss", "valid_auc", "lr"]
    assert len(history) >= 2 and np.isfinite(history.to_numpy()).all()
    assert len(history) < 10  # early stopping ended the fit before max_epochs
    assert history["lr"].iloc[-1] < history["lr"].iloc[0]  # decayed after epochs without progress
    assert history["valid_auc"].max() > 0.8
    (curves,) = figures()
    assert [ax.get_title() for ax in curves.axes] == ["Loss", "Validation ROC AUC"]


def test_compare_models_roc_quick(tmp_path, monkeypatch):
    glob = run_script(
        "compare_models_roc",
        "--quick",
        "--data-dir",
        str(shared_data("frappe").parent),
        "--output-dir",
        str(tmp_path),
        monkeypatch=monkeypatch,
    )
    aucs = glob["aucs"]
    assert set(aucs) == {"LR", "DeepFM"}
    assert all(0.7 < auc <= 1.0 for auc in aucs.values()), aucs
    png = tmp_path / "roc_frappe.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    figures()


def test_behavior_sequences_quick(monkeypatch):
    glob = run_script("plot_behavior_sequences", "--quick", monkeypatch=monkeypatch)
    aucs = glob["aucs"]
    # DIN reads the history against the target item; the ids alone carry none of the planted signal.
    assert aucs["DIN, history read against the item"] > aucs["DeepFM, history mean-pooled"] + 0.1, aucs
    assert aucs["DIN, history read against the item"] > aucs["DeepFM, ids only"] + 0.1, aucs
    # DIN's mean prediction rises with the history items of the target's group, as the clicks do.
    din = glob["rates"]["DIN, history read against the item"]
    assert din.is_monotonic_increasing and din.iloc[-1] > din.iloc[0] + 0.2, din
    # The history built from the log holds each user's earlier items only, oldest first.
    assert glob["log"]["history"].tolist() == [[], ["i3"], ["i3", "i5"], [], ["i7"]]
    (rates,) = figures()
    assert len(rates.axes[0].get_lines()) == 4


def test_movielens_behavior_quick(monkeypatch):
    data_dir = str(shared_data("movielens_latest_small").parent)
    glob = run_script("movielens_behavior", "--quick", "--data-dir", data_dir, monkeypatch=monkeypatch)
    assert len(glob["aucs"]) == 4 and all(0.5 < auc <= 1.0 for auc in glob["aucs"]), glob["aucs"]
    # Every test row's user has training rows: the split is per user, by time.
    assert set(glob["X_test"]["user_id"]) <= set(glob["X_train"]["user_id"])
    figures()


def test_multitask_census_quick(monkeypatch):
    results = run_script("plot_multitask_census", "--quick", monkeypatch=monkeypatch)["results"]
    assert set(results) == {"MMoE", "PLE"}
    for scores in results.values():
        assert scores["income"] > 0.8 and scores["never_married"] > 0.9, scores
        # mean_roc_auc_scorer is the unweighted mean of the tasks' AUCs.
        assert scores["mean"] == pytest.approx((scores["income"] + scores["never_married"]) / 2)
    (per_task,) = figures()
    assert [len(ax.get_lines()) for ax in per_task.axes] == [2, 2]  # a curve per model, per task


def test_esmm_aliexpress_quick(capsys, monkeypatch):
    data_dir = str(shared_data("aliexpress_sample").parent)
    glob = run_script("esmm_aliexpress", "--quick", "--data-dir", data_dir, monkeypatch=monkeypatch)
    aucs, predictions = glob["aucs"], glob["predictions"]
    assert len(aucs) == 3 and all(0.0 <= auc <= 1.0 for auc in aucs.values())
    assert ((predictions > 0) & (predictions < 1)).all().all()
    # ESMM's structure: pCTCVR = pCTR x pCVR, hence never above pCTR.
    np.testing.assert_allclose(predictions["pCTR"] * predictions["pCVR"], predictions["pCTCVR"], rtol=1e-5)
    assert (predictions["pCTCVR"] <= predictions["pCTR"] + 1e-7).all()
    assert "pCVR (conversion, clicked impressions)" in capsys.readouterr().out


def test_serve_onnx_quick(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    results = run_script("plot_serve_onnx", "--quick", "--output-dir", str(tmp_path), monkeypatch=monkeypatch)
    assert (tmp_path / "deepfm.onnx").stat().st_size > 0
    served, expected = results["served"], results["expected"]
    assert served.shape == expected.shape == (300, 2)
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5)


def test_save_and_serve_quick(tmp_path, monkeypatch):
    results = run_script(
        "plot_save_and_serve", "--quick", "--output-dir", str(tmp_path), monkeypatch=monkeypatch
    )
    expected = results["expected"]
    np.testing.assert_array_equal(results["from_joblib"].predict_proba(results["X_test"]), expected)
    np.testing.assert_array_equal(results["from_safe"].predict_proba(results["X_test"]), expected)
    assert (tmp_path / "deepfm.joblib").stat().st_size > 0 and (tmp_path / "deepfm.pt").stat().st_size > 0
    served = results["served"]
    # The JSON round trip (ints for the category columns, object dtypes) predicts as the DataFrame did.
    np.testing.assert_allclose(served[:2], expected[:2, 1], rtol=1e-6)
    # An unseen category, a null and an absent field are predicted, and change the prediction.
    assert 0 < served[2] < 1 and served[2] != pytest.approx(served[0])


def test_out_of_core_parquet_trains_on_chunks(capsys, monkeypatch):
    pytest.importorskip("pyarrow", reason="the parquet extra (pyarrow) is not installed")
    args = ["--n-rows", "6000", "--chunk-rows", "1000", "--passes", "2"]
    glob = run_script("plot_out_of_core_parquet", *args, monkeypatch=monkeypatch)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("pass ")]
    assert lines[0].startswith("pass 1: 5 chunks trained") and lines[1].startswith("pass 2: 10 chunks")
    assert 0.5 < glob["auc"] <= 1.0
    assert glob["rows_seen"] == [1000 * (i + 1) for i in range(10)] and len(glob["aucs"]) == 10
    assert not glob["folder"].exists()  # the temporary dataset is removed
    figures()


def test_dask_search_quick(capsys):
    """The slowest example test (two worker processes import torch): about 30 s on 2 cores."""
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    # Not run as __main__: the script's guard keeps main() for the test to call.
    search = runpy.run_path(str(EXAMPLES / "dask_search.py"))["main"](["--quick"])
    assert search.best_params_ in list(ParameterGrid(search.param_grid))
    np.testing.assert_array_equal(search.cv_results_["mean_test_torch_threads"], 1.0)
    assert np.isfinite(search.cv_results_["mean_test_roc_auc"]).all() and search.best_score_ > 0.8
    assert "Dask cluster: 2 workers, 2 threads" in capsys.readouterr().out
