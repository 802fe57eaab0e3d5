"""Behaviour of the ranking estimators that users rely on."""

import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from skorch.callbacks import Callback

from sklearn_pangu import DeepFMClassifier, FMClassifier, LRClassifier, WideDeepClassifier
from sklearn_pangu.callbacks import _logging
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.preprocessing import FeatureEncoder
from sklearn_pangu.utils import all_estimators

ESTIMATORS = [LRClassifier, FMClassifier, WideDeepClassifier, DeepFMClassifier]
#: Every ranking classifier of the zoo, found through the public API.
# The behaviour models need a history column: tests/ranking/test_{din,dien,bst}.py and
# tests/test_list_fields.py cover them.
RANKING = [
    cls
    for name, cls in all_estimators()
    if name.endswith("Classifier") and "behavior_features" not in cls().get_params()
]


@pytest.fixture(scope="module")
def raw_frame():
    """A DataFrame with every column kind a user brings, and a label that depends on them."""
    rng = np.random.RandomState(0)
    n = 600
    city = rng.choice(["Paris", "Rome", "Oslo", "Lima"], n)
    device = pd.Series(rng.choice(["ios", "android", None], n), dtype="str")
    age = rng.normal(40, 10, n)
    age[rng.rand(n) < 0.1] = np.nan
    visits = pd.array(rng.randint(0, 5, n), dtype="Int64")
    visits[rng.rand(n) < 0.1] = pd.NA
    X = pd.DataFrame(
        {
            "city": city,
            "device": device,
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "member": rng.rand(n) < 0.5,
            "age": age,
            "visits": visits,
        }
    )
    logit = (city == "Paris") * 2.0 - (device == "ios").to_numpy() * 1.5 + np.nan_to_num(age - 40) / 10
    y = np.where(rng.rand(n) < 1 / (1 + np.exp(-logit)), "click", "skip")
    return X, y


@pytest.mark.parametrize("estimator_class", RANKING)
def test_fits_raw_frame_and_returns_binary_outputs(estimator_class, raw_frame, tiny):
    X, y = raw_frame
    model = tiny(estimator_class).fit(X, y)
    assert model.classes_.tolist() == ["click", "skip"]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    positive = 1.0 / (1.0 + np.exp(-model.decision_function(X)))
    np.testing.assert_allclose(proba, np.column_stack([1.0 - positive, positive]), rtol=1e-12, atol=1e-15)
    assert set(model.predict(X)) <= {"click", "skip"}
    np.testing.assert_array_equal(
        model.predict(X), model.classes_[(model.decision_function(X) > 0).astype(int)]
    )
    assert 0.0 <= model.score(X, y) <= 1.0
    assert model.feature_names_in_.tolist() == X.columns.tolist()


@pytest.mark.parametrize("labels", [[False, True], [0.0, 1.0], ["no", "yes"], [3, 7]])
def test_any_two_labels(labels, tiny):
    X, y01 = make_ctr_classification(400, n_sparse=3, n_dense=2, max_cardinality=20, random_state=0)
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[y01]
    model = tiny(LRClassifier).fit(X, y)
    assert model.classes_.tolist() == list(labels)
    assert set(model.predict(X).tolist()) <= set(labels)


def test_more_than_two_classes_is_a_clear_error(tiny):
    X = np.random.RandomState(0).rand(30, 2)
    with pytest.raises(ValueError, match="binary.*3 classes"):
        tiny(FMClassifier).fit(X, np.arange(30) % 3)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(30), "only one class"),
        (np.r_[np.nan, np.arange(29) % 2], "NaN"),
        (np.arange(29) % 2, "inconsistent numbers of samples"),
        (np.column_stack([np.arange(30) % 2] * 2), "2 columns.*multi-task estimator"),
    ],
)
def test_bad_labels_are_clear_errors(y, match, tiny):
    X = np.random.RandomState(0).rand(30, 2)
    with pytest.raises(ValueError, match=match):
        tiny(LRClassifier).fit(X, y)


def test_bad_input_is_a_clear_error(raw_frame, tiny):
    X, y = raw_frame
    model = tiny(LRClassifier).fit(X, y)
    with pytest.raises(ValueError, match="city"):
        model.predict(X.drop(columns="city"))
    with pytest.raises(ValueError, match="town"):
        model.predict(X.rename(columns={"city": "town"}))
    with pytest.raises(ValueError, match="0 sample"):
        tiny(LRClassifier).fit(X.iloc[:0], y[:0])
    X_inf = X.assign(age=X["age"].replace(np.nan, np.inf))
    with pytest.raises(ValueError, match="age"):
        tiny(LRClassifier).fit(X_inf, y)
    with pytest.raises(ValueError, match="age"):
        model.predict(X_inf)
    with pytest.raises(ValueError, match="device"):
        tiny(LRClassifier, device="gpu0").fit(X, y)
    with pytest.raises(TypeError, match=r"list of dicts.*pandas.DataFrame\(records"):
        model.predict(X.to_dict("records"))


def test_unavailable_cuda_is_a_clear_error(raw_frame, tiny):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    X, y = raw_frame
    with pytest.raises(ValueError, match="no CUDA GPU"):
        tiny(LRClassifier, device="cuda").fit(X, y)


def test_bad_hyper_parameters_are_clear_errors(raw_frame, tiny):
    X, y = raw_frame
    with pytest.raises(ValueError, match="hidden_units"):
        tiny(DeepFMClassifier, hidden_units=(8, 0)).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate"):
        tiny(DeepFMClassifier, learning_rate=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        tiny(DeepFMClassifier, optimizer="adamax").fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        tiny(DeepFMClassifier, early_stopping="sometimes").fit(X, y)


def test_unseen_and_missing_values_at_predict(raw_frame, tiny):
    X, y = raw_frame
    model = tiny(DeepFMClassifier).fit(X, y)
    X_new = pd.DataFrame(
        {
            "city": ["Tokyo", None, np.nan],
            "device": pd.Series([None, "web", "ios"], dtype="str"),
            "plan": pd.Categorical(["enterprise", None, "free"]),
            "member": [True, False, True],
            "age": [np.nan, 200.0, 20.0],
            "visits": pd.array([pd.NA, 100, 1], dtype="Int64"),
        }
    )
    proba = model.predict_proba(X_new)
    assert np.isfinite(proba).all()
    assert model.predict_proba(X.iloc[:0]).shape == (0, 2)
    assert model.predict_proba(X.iloc[:1]).shape == (1, 2)


def test_predict_in_batches_matches_one_batch(raw_frame, tiny):
    X, y = raw_frame
    model = tiny(DeepFMClassifier).fit(X, y)
    big = pd.concat([X] * 30, ignore_index=True)  # 18,000 rows: more than one prediction batch
    proba = model.predict_proba(big)
    np.testing.assert_allclose(proba[: len(X)], model.predict_proba(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba[-len(X) :], proba[: len(X)], rtol=1e-5, atol=1e-6)


def test_sample_weight_weights_the_loss(tiny):
    X, y = make_ctr_classification(800, n_sparse=3, n_dense=2, max_cardinality=20, random_state=0)
    weight = np.where(y == 1, 5.0, 1.0)
    plain = tiny(FMClassifier, max_epochs=10).fit(X, y)
    weighted = tiny(FMClassifier, max_epochs=10).fit(X, y, sample_weight=weight)
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.05
    with pytest.raises(ValueError, match="non-zero"):
        tiny(FMClassifier).fit(X, y, sample_weight=np.zeros(800))


def test_early_stopping_history_and_best_weights(tiny):
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=200, random_state=0)
    model = tiny(
        DeepFMClassifier, early_stopping=True, max_epochs=40, n_iter_no_change=2, learning_rate=0.05
    ).fit(X, y)
    history = model.history_
    assert model.n_iter_ == len(history) < 40
    auc = np.array(history[:, "valid_auc"])
    best = int(np.nanargmax(auc))
    assert len(history) - 1 - best == 2  # stopped n_iter_no_change epochs after the best
    for key in ("train_loss", "valid_loss", "valid_auc", "dur"):
        assert all(np.isfinite(history[:, key]))
    # the restored weights are those of the best epoch: recompute its validation AUC
    split = train_test_split(
        np.arange(len(X)),
        test_size=0.1,
        stratify=y,
        random_state=np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2)[0],
    )
    valid = split[1]
    recomputed = roc_auc_score(y[valid], model.decision_function(X.iloc[valid]))
    assert recomputed == pytest.approx(auc[best], abs=1e-6)


def test_learning_rate_decays_after_epochs_without_a_new_best(tiny):
    X, y = make_ctr_classification(3000, n_sparse=4, n_dense=2, max_cardinality=200, random_state=0)
    model = tiny(DeepFMClassifier, early_stopping=True, max_epochs=40, learning_rate=0.05).fit(X, y)
    auc, lr = np.array(model.history_[:, "valid_auc"]), np.array(model.history_[:, "lr"])
    assert len(lr) == model.n_iter_ and lr[0] == 0.05
    for epoch in range(1, len(lr)):
        improved = auc[epoch - 1] > np.max(auc[: epoch - 1], initial=-np.inf)
        assert lr[epoch] == pytest.approx(lr[epoch - 1] * (1.0 if improved else 0.1))
    constant = tiny(DeepFMClassifier, early_stopping=True, max_epochs=6, learning_rate_decay=1.0).fit(X, y)
    assert set(constant.history_[:, "lr"]) == {constant.learning_rate}
    model.set_params(warm_start=True, max_epochs=1, learning_rate=0.01).fit(X, y)
    assert model.history_[-1, "lr"] == 0.01


def test_no_validation_split_when_early_stopping_is_off(tiny):
    X, y = make_ctr_classification(500, n_sparse=3, n_dense=1, max_cardinality=20, random_state=0)
    model = tiny(FMClassifier, early_stopping=False, max_epochs=4).fit(X, y)
    assert model.n_iter_ == 4
    assert "valid_auc" not in model.history_[-1]


def test_warm_start_continues_from_fitted_weights(raw_frame, tiny):
    X, y = raw_frame
    model = tiny(WideDeepClassifier, warm_start=True, max_epochs=2, early_stopping=False).fit(X, y)
    encoder = model.encoder_
    weights = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    losses_first = model.history_[:, "train_loss"]
    model.fit(X, y)
    assert model.encoder_ is encoder
    assert len(model.history_) == 4 and model.n_iter_ == 2
    assert model.history_[2, "train_loss"] < losses_first[0]
    changed = any(not torch.equal(weights[k], v) for k, v in model.net_.module_.state_dict().items())
    assert changed
    cold = clone(model).set_params(warm_start=False).fit(X, y)
    assert len(cold.history_) == 2


def test_verbose_prints_one_line_per_epoch(raw_frame, capsys, tiny):
    X, y = raw_frame
    tiny(FMClassifier, verbose=1, early_stopping=True, max_epochs=3, n_iter_no_change=5).fit(X, y)
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("epoch", "train_loss", "valid_auc", "valid_loss", "dur"):
        assert column in header
    assert sum(line.strip()[:1].isdigit() for line in out.splitlines()) == 3
    tiny(FMClassifier, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_verbose_shows_progress_inside_long_epochs_and_verbose_0_is_silent(
    raw_frame, capsys, monkeypatch, tiny
):
    X, y = raw_frame
    monkeypatch.setattr(_logging, "PROGRESS_DELAY_SECONDS", 0.0)
    monkeypatch.setattr(_logging, "PROGRESS_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(_logging, "_stderr_is_interactive", lambda: True)
    tiny(FMClassifier, verbose=1, max_epochs=2, batch_size=16).fit(X, y)
    err = capsys.readouterr().err
    n_batches = -(-len(X) // 16)
    assert f"epoch 1: {n_batches}/{n_batches} batches (100%)" in err
    assert err.endswith("\r")  # the line is erased before the epoch's log line
    tiny(FMClassifier, verbose=0, max_epochs=2, batch_size=16).fit(X, y)
    assert capsys.readouterr() == ("", "")


def test_estimators_have_scikit_learns_html_repr():
    html = DeepFMClassifier(hidden_units=(64, 32))._repr_html_()
    assert "DeepFMClassifier" in html and "hidden_units" in html


def test_extra_callbacks_run(raw_frame, tiny):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    X, y = raw_frame
    counter = CountEpochs()
    model = tiny(LRClassifier, callbacks=[counter], max_epochs=3, early_stopping=False).fit(X, y)
    assert dict(model.net_.callbacks_)["CountEpochs"].epochs == 3


def test_non_finite_loss_stops_with_error_and_keeps_weights(raw_frame, tiny):
    class PoisonSecondEpoch(Callback):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history) == 2:
                net.module_.linear.bias.data.fill_(float("nan"))

    X, y = raw_frame
    model = tiny(FMClassifier, callbacks=[PoisonSecondEpoch()], max_epochs=5, early_stopping=False)
    with pytest.raises(FloatingPointError, match="epoch 2") as info:
        model.fit(X, y)
    embedding = info.value.trained_estimator.net_.module_.embedding.table.weight
    assert torch.isfinite(embedding).all()  # no update was made with the non-finite loss


@pytest.mark.parametrize("estimator_class", RANKING)
def test_persistence_round_trips(estimator_class, raw_frame, tmp_path, tiny):
    X, y = raw_frame
    model = tiny(estimator_class).fit(X, y)
    expected = model.predict_proba(X)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), expected)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_same_random_state_same_predictions(estimator_class, raw_frame, tiny):
    X, y = raw_frame
    first = tiny(estimator_class, random_state=3).fit(X, y).predict_proba(X)
    second = tiny(estimator_class, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = tiny(estimator_class, random_state=4).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


def test_a_rows_prediction_does_not_depend_on_the_rows_beside_it(raw_frame, monkeypatch):
    # Scoring one request alone or inside a big batch must give the same number.
    X, y = raw_frame
    model = DeepFMClassifier(embedding_dim=8, hidden_units=(64, 64), max_epochs=2, random_state=0).fit(X, y)
    together = model.predict_proba(X)
    alone = np.vstack([model.predict_proba(X.iloc[[i]]) for i in range(0, len(X), 37)])
    np.testing.assert_array_equal(alone, together[::37])
    model.set_params(predict_batch_size=100)
    np.testing.assert_array_equal(model.predict_proba(X), together)


def test_validation_pass_runs_predict_batch_size_rows_without_gradients_or_rollback_copy(raw_frame, tiny):
    # Gradients and the copy to roll back to are the size of the model; once the training
    # pass ends, the validation pass and early stopping's best weights get that memory.
    X, y = raw_frame
    seen = []

    class ValidationBatches(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if not training:
                no_grads = all(p.grad is None for p in net.module_.parameters())
                seen.append((len(batch[0]["codes"]), no_grads, net._epoch_start_state is None))

    model = tiny(FMClassifier, early_stopping=True, max_epochs=1, predict_batch_size=16, warm_start=True)
    model.set_params(callbacks=[ValidationBatches()]).fit(X, y)
    rows, no_grads, no_copy = zip(*seen)
    assert max(rows) == 16 and sum(rows) == int(np.ceil(0.1 * len(X)))
    assert all(no_grads) and all(no_copy)
    seen.clear()
    model.set_params(predict_batch_size=8).fit(X, y)
    assert max(rows for rows, _, _ in seen) == 8


def test_training_leaves_global_torch_rng_alone(raw_frame, tiny):
    X, y = raw_frame
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny(DeepFMClassifier).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_clone_and_set_params():
    model = DeepFMClassifier(embedding_dim=8)
    model.set_params(hidden_units=(16, 8), learning_rate=0.01)
    copy = clone(model)
    assert copy.get_params()["hidden_units"] == (16, 8)
    assert copy.get_params()["embedding_dim"] == 8
    assert not hasattr(copy, "net_")


def test_in_pipeline_after_column_transformer_and_encoder(raw_frame, tiny):
    X, y = raw_frame
    ordinal = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["city", "device", "plan"]),
        remainder="drop",
    )
    # integer codes from an upstream transformer are categorical only when named so
    pipe = make_pipeline(ordinal, tiny(FMClassifier, categorical_features=[0, 1, 2])).fit(X, y)
    assert pipe[-1].encoder_.field_spec_.n_categorical == 3
    assert pipe.predict_proba(X).shape == (len(X), 2)
    encoded = make_pipeline(FeatureEncoder(), tiny(LRClassifier)).fit(X, y)
    assert encoded.predict(X).shape == (len(X),)


@pytest.mark.parametrize("estimator_class", RANKING)
def test_every_model_works_in_a_pipeline(estimator_class, raw_frame, tiny):
    X, y = raw_frame
    pipe = make_pipeline(FeatureEncoder(numeric_encoding="bucket"), tiny(estimator_class)).fit(X, y)
    assert pipe.predict_proba(X.iloc[:5]).shape == (5, 2)


def test_grid_search_on_raw_frame(raw_frame, tiny):
    X, y = raw_frame
    search = GridSearchCV(
        tiny(DeepFMClassifier),
        {"embedding_dim": [2, 4], "learning_rate": [1e-3, 1e-2]},
        scoring="roc_auc",
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert set(search.best_params_) == {"embedding_dim", "learning_rate"}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


PLANTED = {"batch_size": 512, "learning_rate": 3e-3, "random_state": 0}


@pytest.fixture(scope="module")
def planted_interactions():
    """Pairwise interactions LR cannot represent: the split and LR's test AUC on it."""
    X, y = make_ctr_classification(
        20_000, n_sparse=6, n_dense=2, max_cardinality=50, interaction_strength=4.0, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    lr = LRClassifier(**PLANTED).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, roc_auc_score(y_test, lr.predict_proba(X_test)[:, 1])


def _structural_variants():
    """Each model's non-default structures, with the parameter that selects them."""
    import sklearn_pangu as sp

    return [
        sp.AutoIntClassifier(use_dnn=False),
        sp.DCNV2Classifier(structure="stacked", low_rank=16),
        sp.MaskNetClassifier(structure="serial"),
        sp.AFNClassifier(num_logarithmic_neurons=32, use_dnn=False),
        sp.FiBiNetClassifier(bilinear_type="field_interaction"),
        sp.XDeepFMClassifier(cin_split_half=False),
    ]


@pytest.mark.parametrize(
    "estimator",
    [cls() for cls in RANKING if cls is not LRClassifier] + _structural_variants(),
    ids=lambda est: (
        type(est).__name__
        + "".join(f"-{k}={v}" for k, v in est.get_params().items() if v != type(est)().get_params()[k])
    ),
)
def test_interaction_models_beat_lr_on_planted_interactions(planted_interactions, estimator):
    X_train, X_test, y_train, y_test, auc_lr = planted_interactions
    # Ten epochs leave every model at least 0.1 AUC above LR (which trains to early stopping).
    params = {**PLANTED, "embedding_dim": 8, "max_epochs": 10}
    if "hidden_units" in estimator.get_params():
        params["hidden_units"] = (64, 32)
    if "dnn_units" in estimator.get_params():  # AFN's ensemble MLP
        params.update(dnn_units=(64, 32), num_logarithmic_neurons=min(estimator.num_logarithmic_neurons, 64))
    model = clone(estimator).set_params(**params).fit(X_train, y_train)
    auc_model = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    assert auc_model > auc_lr + 0.01, (auc_model, auc_lr)


class _TorchObjectFinder(pickle.Pickler):
    """A pickler that records every tensor, module or optimizer it is asked to pickle."""

    def __init__(self, file) -> None:
        super().__init__(file)
        self.found = []

    def reducer_override(self, obj):
        if isinstance(obj, (torch.Tensor, torch.nn.Module, torch.optim.Optimizer)):
            self.found.append(type(obj).__name__)
        return NotImplemented


@pytest.mark.parametrize("estimator_class", RANKING)
def test_pickle_holds_tensors_only_inside_skorch_device_mapped_state(estimator_class, raw_frame, tiny):
    # skorch saves module_, criterion_ and optimizer_ with a device map; a tensor kept
    # anywhere else would fail to unpickle on a machine without the GPU it lived on.
    X, y = raw_frame
    model = tiny(estimator_class, early_stopping=True).fit(X, y)
    finder = _TorchObjectFinder(io.BytesIO())
    finder.dump(model)
    assert finder.found == []


RELOAD_WITHOUT_CUDA = """
import sys, warnings, joblib, numpy as np
warnings.simplefilter("ignore")
model, X = joblib.load(sys.argv[1])
np.save(sys.argv[2], model.predict_proba(X))
"""


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_gpu_and_predicts_on_cpu(raw_frame, tmp_path, tiny):
    X, y = raw_frame
    model = tiny(DeepFMClassifier, device="cuda").fit(X, y)
    assert next(model.net_.module_.parameters()).is_cuda
    expected = model.predict_proba(X)
    joblib.dump((model, X), tmp_path / "gpu.joblib")
    subprocess.run(
        [sys.executable, "-c", RELOAD_WITHOUT_CUDA, str(tmp_path / "gpu.joblib"), str(tmp_path / "p.npy")],
        check=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-4, atol=1e-5)


def test_predict_from_a_dict_of_columns(tiny):
    """One row or a user's candidates as a dict of columns: the DataFrame's answers, in any key order."""
    from sklearn_pangu import DeepFMClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"user": rng.choice(["u1", "u2", "u3"], 200), "price": rng.normal(size=200)})
    y = (X["user"] == "u1") ^ (X["price"] > 0)
    model = tiny(DeepFMClassifier).fit(X, y)
    one = {"price": [0.5], "user": ["u2"]}
    np.testing.assert_array_equal(
        model.predict_proba(one), model.predict_proba(pd.DataFrame(one)[["user", "price"]])
    )
    candidates = {"user": ["u1"] * 30, "price": list(np.linspace(-2, 2, 30))}
    np.testing.assert_array_equal(
        model.predict_proba(candidates), model.predict_proba(pd.DataFrame(candidates))
    )
    with pytest.raises(ValueError, match=r"X is a dict, read as columns.*\['u1'\]"):
        model.predict_proba({"user": "u1", "price": 0.5})


def test_a_few_rows_predict_the_bits_of_a_large_batch(tiny):
    """Up to 512 rows take the per-cell encoding path; every row's probability is the same bits."""
    from sklearn_pangu import DeepFMClassifier

    rng = np.random.default_rng(1)
    n = 1500
    X = pd.DataFrame(
        {
            "user": rng.choice(["u1", "u2", "u3", None], n),
            "level": rng.integers(0, 4, n),
            "flag": rng.random(n) < 0.5,
            "gain": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(100, n)),
            "age": rng.normal(40, 10, n),
        }
    )
    y = (X["user"] == "u1") ^ (X["gain"] > 0)
    model = tiny(DeepFMClassifier, categorical_features=["user", "level", "flag"]).fit(X, y)
    large = model.predict_proba(X)
    for rows in (slice(0, 1), slice(7, 8), slice(100, 356)):
        np.testing.assert_array_equal(model.predict_proba(X.iloc[rows]), large[rows])
