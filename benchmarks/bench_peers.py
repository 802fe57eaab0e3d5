"""Speed and peak memory side by side: sklearn_pangu, the hand-written loop, DeepCTR-Torch and torch-rechub.

Peers (the default). Each framework trains the same network, one of
``_reference.NETWORKS`` (every ranking and multi-task network of sklearn_pangu that
DeepCTR-Torch 0.3.0 or torch-rechub 0.9.0 also has; ``_peers_networks.py`` builds the
peers' versions), on the same rows, each run in its own process: training rows/s (the whole fit, from the
DataFrame), epochs-only rows/s, prediction rows/s (the fastest of three passes over the
test rows, in batches of sklearn_pangu's ``predict_batch_size='auto'``), the resident
memory with the data loaded, the peak resident memory during the fit and during the
prediction, and the test ROC AUC. Data (``--datasets``): ``synthetic``,
``make_ctr_classification`` with ``--rows`` training rows (26 categorical columns with up
to 100,000 ids, 13 dense; a tenth as many other rows to predict; one epoch), and
``frappe``, train on ``valid.csv.gz`` and predict ``test.csv.gz`` (five epochs;
research-only data read from ``../shared/data/frappe``, skipped with the reason when
absent). The multi-task networks' second task is :func:`_common.conversion_label` (a
click that converts: the click-and-conversion label ESMM takes).

Every framework starts from the same DataFrame of category and float columns (Frappe's
strings become categories of the training set's values before any clock starts):
sklearn_pangu's times include encoding it and building its network; the others are fed
label-encoded arrays of the category codes and build their network before their clock
starts. On Frappe, "sklearn_pangu, from the CSV's strings" is also given the strings as
read, which only it takes. Every process imports torch's optimizer code before any clock.

``--repeats`` runs of each framework go round-robin, so that the machine's drift hits all
of them alike; the tables keep each framework's best rows/s and largest peaks, and, with
two or more repeats, compare the runs of each round (adjacent in time): the median and
range of sklearn_pangu's speed over each framework's. ``--options`` adds sklearn_pangu
with speed options as more frameworks (``--options mixed_precision=bfloat16``).

Differences that cannot be removed: DeepCTR-Torch and torch-rechub feed the dense
features to the MLP (multi-task networks: experts, gates, towers) as raw values, where
sklearn_pangu and the hand-written loop embed them (``x * v``, each number one scaled
field), so their field interactions (FM, CIN, pairs, attention) see the sparse fields
only: 26 fields where sklearn_pangu's see 39, which makes the pair-based networks (AFM,
FiBiNET) about 2.3 times smaller in the peers. torch-rechub has no dense features in its
linear part, and its multi-task trainer scores a validation loader after each epoch
(given one batch of training rows). DeepCTR-Torch sums the losses over a batch where the
others average them (Adam is almost insensitive to the scale). What differs network by
network is ``_peers_networks.DIFFERENCES``, printed under the tables.

Behaviour sequences: DIN, DIEN and BST (``--models din dien bst``, networks of
``_reference.SEQUENCE_NETWORKS``) on ``movielens`` (MovieLens ml-latest-small, the per-user
split of ``_movielens.py``, one epoch) and, when named in ``--datasets``, ``behavior``
(``make_behavior_classification`` with ``--rows`` training rows, 100,000 unless given, one
epoch; it needs no data files), with the same columns:
sklearn_pangu, the hand-written DIN (``_reference.DINReferenceLoop``), DeepCTR-Torch's DIN
and DIEN, and torch-rechub's DIN, DIEN and BST; ``_peers_sequence.py`` holds the data,
the peers' runs and what differs in their networks (also printed under the tables).
With ``--early-stopping`` the sequence runs compare quality instead: every framework
holds out the same validation rows (those sklearn_pangu's early stopping draws), trains
with a constant learning rate until three epochs bring no better validation ROC AUC
(``--epochs`` at most, 50 unless given) and predicts with its best epoch's weights; the
table gives the epochs run, the fit seconds and the test ROC AUC. There ``--repeats N`` runs
seeds 0 to N - 1, run r with seed r in every framework (its validation rows, its network's
initial weights, its shuffling), and adds each framework's mean ± standard deviation.
``--without-batch-norm`` takes batch norm out of the sequence networks' MLPs in every
framework whose API allows it (sklearn_pangu's behaviour models have none by default;
torch-rechub's MLP always has it).

Zoo (``--zoo``): every estimator (``--models``, by estimator name) but the behaviour models,
which need a history column, with its defaults, one epoch, no early stopping, on ``--rows``
synthetic rows (200,000 unless given; the multi-task estimators get the click and its
conversion as their two tasks), each run in its own process: the same columns, and each
epoch's time over DeepFM's.

``--environment NAME=VALUE ...`` sets environment variables in every run's process, every
framework alike: an allocator's settings, for instance (glibc's ``MALLOC_TRIM_THRESHOLD_``).

DeepCTR-Torch and torch-rechub run in the environment that ``make bench-peers`` builds
(``.bench-venv``); without it they are skipped with a message.

Usage: ``python benchmarks/bench_peers.py [--quick | --record] [--models deepfm dcn xdeepfm mmoe din
dien bst] [--datasets synthetic frappe movielens behavior] [--frameworks ...] [--rows 1000000]
[--epochs N] [--repeats 3] [--options KEY=VALUE[,KEY=VALUE] ...] [--threads N] [--zoo]
[--early-stopping] [--without-batch-norm] [--environment NAME=VALUE ...]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common  # noqa: E402
import _peers_networks  # noqa: E402
import _peers_sequence  # noqa: E402
import _reference  # noqa: E402

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".bench-venv" / "bin" / "python"
#: The frameworks and the Python that runs each.
FRAMEWORKS = {
    "sklearn_pangu": Path(sys.executable),
    "hand_written": Path(sys.executable),
    "deepctr_torch": PEER_PYTHON,
    "torch_rechub": PEER_PYTHON,
}
#: sklearn_pangu fed Frappe's strings as read, instead of the category columns every framework gets.
FROM_STRINGS = "sklearn_pangu_strings"
LABELS = {
    "sklearn_pangu": "sklearn_pangu",
    FROM_STRINGS: "sklearn_pangu, from the CSV's strings",
    "hand_written": "hand-written loop",
    "deepctr_torch": "DeepCTR-Torch",
    "torch_rechub": "torch-rechub",
}
#: Networks a framework does not have, and why.
MISSING = {
    **{
        (peer, network): "the library has no such network"
        for peer, has in _peers_networks.PEER_NETWORKS.items()
        for network in [*_reference.NETWORKS, *_reference.SEQUENCE_NETWORKS]
        if network not in has
    },
    ("hand_written", "dien"): "the hand-written loop is DIN's only",
    ("hand_written", "bst"): "the hand-written loop is DIN's only",
}
EPOCHS = {"synthetic": 1, "frappe": 5, "movielens": 1, "behavior": 1}
#: The most epochs of a run with ``--early-stopping`` unless ``--epochs`` says otherwise.
EARLY_STOPPING_EPOCHS = 50
#: The datasets a run measures unless ``--datasets`` names others.
DEFAULT_DATASETS = ["synthetic", "frappe", "movielens"]
#: The datasets with behaviour sequences, on which the sequence networks run (and only they).
SEQUENCE_DATASETS = {"movielens", "behavior"}
#: Passes over the test rows per process, the fastest kept: one pass can take well under a second.
PREDICT_PASSES = 3
ZOO_ROWS = 200_000
SPEEDS = {"train_rows_per_s": "training", "epoch_rows_per_s": "epochs", "predict_rows_per_s": "prediction"}
#: How the titles name each sequence dataset's split.
SPLIT_TITLES = {
    "movielens": "MovieLens, per-user split",
    "behavior": "make_behavior_classification",
}


# One run, in its own process -----------------------------------------------------------------


def load(spec: dict):
    """The training and test rows of a run: DataFrames, and one label column per task."""
    if spec["dataset"] in SEQUENCE_DATASETS:
        return _peers_sequence.load(spec["dataset"], spec["rows"])
    multitask = spec["model"].endswith("MultiOutput") or spec["model"] in _reference.MULTITASK
    if spec["dataset"] == "synthetic":
        return _common.synthetic(spec["rows"], multitask=multitask)
    X_train, X_test, y_train, y_test = _common.load_frappe(spec["rows"])
    if multitask:
        y_train = np.column_stack([y_train, _common.conversion_label(X_train, y_train, seed=1)])
        y_test = np.column_stack([y_test, _common.conversion_label(X_test, y_test, seed=2)])
    if spec["framework"] != FROM_STRINGS:
        X_train, X_test = _common.as_categories(X_train, X_test)
    return X_train, X_test, y_train, y_test


def template(spec: dict):
    """The unfitted sklearn_pangu estimator of a run."""
    import sklearn_pangu

    options = spec["options"]
    if spec["zoo"]:
        return getattr(sklearn_pangu, spec["model"])(
            max_epochs=spec["epochs"], early_stopping=False, random_state=0, **options
        )
    if spec["model"] in _reference.SEQUENCE_NETWORKS:
        options = {**options, "behavior_features": _peers_sequence.BEHAVIOR[spec["dataset"]]}
    if not spec.get("batch_norm", True):
        options = {**options, "batch_norm": False}
    if spec.get("early_stopping"):
        # The peers' recipe: a constant learning rate, the best validation epoch's weights.
        options = {
            **options,
            "early_stopping": True,
            "validation_fraction": _peers_sequence.VALIDATION_FRACTION,
            "n_iter_no_change": _peers_sequence.PATIENCE,
            "learning_rate_decay": 1.0,
            "random_state": spec["seed"],
        }
    return _reference.estimator(spec["model"], spec["epochs"], **options)


def run_sklearn_pangu(spec, X, y, X_test):
    model = template(spec)
    (fit_seconds,), _ = _common.clock(lambda: model.fit(X, y))
    epoch_seconds = float(sum(model.history_[:, "dur"]))

    def predict():
        proba = model.predict_proba(X_test)
        return np.column_stack([p[:, 1] for p in proba]) if isinstance(proba, list) else proba[:, 1]

    return fit_seconds, epoch_seconds, predict, model.n_iter_


def run_hand_written(spec, X, y, X_test):
    if spec["model"] == "din":
        # The lists are label-encoded before the clock, as for the peers.
        loop = _reference.DINReferenceLoop(template(spec), X)
        X, X_test = loop.encode(X), loop.encode(X_test)
    else:
        n_tasks = y.shape[1] if np.ndim(y) == 2 else 1
        loop = _reference.ReferenceLoop(template(spec), X, n_tasks=n_tasks)
    (fit_seconds,), epoch_seconds = _common.clock(lambda: loop.fit(X, y, spec["epochs"]))
    return fit_seconds, epoch_seconds, lambda: loop.predict(X_test), spec["epochs"]


def run_deepctr_torch(spec, X, y, X_test):
    if spec["model"] in _reference.SEQUENCE_NETWORKS:
        return _peers_sequence.run_deepctr_torch(spec, X, y, X_test)
    network = spec["model"]
    codes, values, cardinalities = _reference.label_encoded(X)
    n_tasks = y.shape[1] if np.ndim(y) == 2 else 1
    model = _peers_networks.deepctr_model(network, codes, values, cardinalities, n_tasks)
    fit_seconds, epoch_seconds, epochs = _peers_sequence.deepctr_fit(
        model, {**codes, **values}, y, spec["epochs"]
    )
    test_codes, test_values, _ = _reference.label_encoded(X_test)

    def predict():
        proba = model.predict({**test_codes, **test_values}, batch_size=_reference.predict_batch_size("cpu"))
        return proba if n_tasks > 1 else proba.ravel()

    return fit_seconds, epoch_seconds, predict, epochs


def run_torch_rechub(spec, X, y, X_test):
    if spec["model"] in _reference.SEQUENCE_NETWORKS:
        return _peers_sequence.run_torch_rechub(spec, X, y, X_test)
    import torch
    from torch.utils.data import DataLoader
    from torch_rechub.trainers import CTRTrainer, MTLTrainer
    from torch_rechub.utils.data import PredictDataset, TorchDataset

    network = spec["model"]
    codes, values, cardinalities = _reference.label_encoded(X)
    n_tasks = y.shape[1] if np.ndim(y) == 2 else 1
    torch.manual_seed(0)
    model, tasks = _peers_networks.rechub_model(network, cardinalities, values, n_tasks)
    settings = {
        "optimizer_params": {"lr": _reference.LEARNING_RATE, "weight_decay": 0.0},
        "n_epoch": spec["epochs"],
        "device": "cpu",
        "model_path": "/tmp",
    }
    trainer = CTRTrainer(model, **settings) if tasks is None else MTLTrainer(model, tasks, **settings)
    labels = _peers_networks.rechub_labels(network, np.asarray(y, dtype=np.float32))
    batch = _reference.BATCH_SIZE

    def fit():
        # What torch-rechub's DataGenerator.generate_dataloader builds for a training set.
        loader = DataLoader(TorchDataset({**codes, **values}, labels), batch_size=batch, shuffle=True)
        if tasks is not None:
            # MTLTrainer.fit needs a validation loader and scores it after every epoch: one
            # batch of training rows keeps that cost out of the comparison.
            head = {k: v[:batch] for k, v in {**codes, **values}.items()}
            trainer.fit(loader, DataLoader(TorchDataset(head, labels[:batch]), batch_size=batch))
        else:
            trainer.fit(loader)

    fit_seconds, epoch_seconds, epochs = _peers_sequence.rechub_fit(trainer, fit)
    test_codes, test_values, _ = _reference.label_encoded(X_test)
    test = {**test_codes, **test_values}
    rows = _reference.predict_batch_size("cpu")

    def predict():
        if tasks is not None:
            loader = DataLoader(PredictDataset(test), batch_size=rows)
        else:
            loader = DataLoader(TorchDataset(test, np.zeros(len(X_test), dtype=np.float32)), batch_size=rows)
        return _peers_networks.rechub_outputs(network, np.asarray(trainer.predict(model, loader)))

    return fit_seconds, epoch_seconds, predict, epochs


RUNNERS = {
    "sklearn_pangu": run_sklearn_pangu,
    FROM_STRINGS: run_sklearn_pangu,
    "hand_written": run_hand_written,
    "deepctr_torch": run_deepctr_torch,
    "torch_rechub": run_torch_rechub,
}


def child(spec: dict) -> dict:
    """One framework's fit and prediction, measured: the JSON line the parent reads."""
    import torch
    from sklearn.metrics import roc_auc_score

    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    X_train, X_test, y_train, y_test = load(spec)
    # torch's first optimizer imports torch._dynamo, about a second once per process: paid
    # here, before any framework's clock.
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    rss_data = _common.rss_mib()
    with _common.PeakMemory() as fit_memory:
        run = RUNNERS[spec["framework"]]
        fit_seconds, epoch_seconds, predict, epochs = run(spec, X_train, y_train, X_test)
    with _common.PeakMemory() as predict_memory:
        seconds, proba = _common.clock(predict, PREDICT_PASSES)
    y_test, proba = np.asarray(y_test), np.asarray(proba)
    if y_test.ndim == 1:
        aucs = [roc_auc_score(y_test, proba)]
    else:
        aucs = [roc_auc_score(y_test[:, t], proba[:, t]) for t in range(y_test.shape[1])]
    n_train = len(X_train)
    if spec.get("early_stopping"):
        n_train = len(_peers_sequence.validation_rows(np.asarray(y_train), spec["seed"])[0])
    rows = n_train * epochs
    return {
        "train_rows": len(X_train),
        "epochs": epochs,
        "fit_seconds": fit_seconds,
        "test_rows": len(X_test),
        "train_rows_per_s": rows / fit_seconds,
        "epoch_rows_per_s": rows / epoch_seconds,
        "predict_rows_per_s": len(X_test) / min(seconds),
        "rss_data_mib": rss_data,
        "fit_peak_mib": fit_memory.peak_mib,
        "predict_peak_mib": predict_memory.peak_mib,
        "aucs": aucs,
    }


# The parent: runs, tables, record -------------------------------------------------------------


def best(results: list[dict]) -> dict:
    """The best of the repeats: largest rows/s, largest memory, the first repeat's AUC."""
    largest = ["rss_data_mib", "fit_peak_mib", "predict_peak_mib", *SPEEDS]
    kept = {key: max((r[key] for r in results if r[key] is not None), default=None) for key in largest}
    return {**results[0], **kept, "repeats": len(results)}


def ratio(ours: dict | None, theirs: dict | None) -> str:
    """sklearn_pangu's rows/s over the framework's: training / epochs / prediction."""
    if not ours or not theirs:
        return ""
    return " / ".join(f"{ours[key] / theirs[key]:.2f}" for key in SPEEDS)


def paired(ours: list[dict], theirs: list[dict]) -> str:
    """Median (range) over the rounds of sklearn_pangu's speed over the framework's run of the same round."""
    by_round = {r["round"]: r for r in theirs}
    cells = []
    for key in SPEEDS:
        values = [r[key] / by_round[r["round"]][key] for r in ours if r["round"] in by_round]
        if not values:
            return ""
        cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})")
    return " / ".join(cells)


def mib(value) -> str:
    return f"{value:,.0f}" if value is not None else ""


def auc(result: dict) -> str:
    return " / ".join(f"{a:.4f}" for a in result["aucs"])


def peers_tables(runs: dict, models: list[str], frameworks: list[str], variants: list[str]) -> str:
    measured = {key: best(results) for key, results in runs.items()}
    rows, ratios, rounds = [], [], []
    for model in models:
        for framework in frameworks:
            result = measured.get((model, framework))
            if result is None:
                continue
            rows.append(
                [
                    _reference.NAMES[model],
                    LABELS.get(framework, framework),
                    *(f"{result[key]:,.0f}" for key in SPEEDS),
                    mib(result["rss_data_mib"]),
                    mib(result["fit_peak_mib"]),
                    mib(result["predict_peak_mib"]),
                    auc(result),
                ]
            )
        for variant in variants:
            label = _reference.NAMES[model] + (
                "" if variant == "sklearn_pangu" else ", " + variant.split(", ", 1)[1]
            )
            others = [f for f in frameworks if f not in variants and f != FROM_STRINGS]
            ratios.append(
                [label, *(ratio(measured.get((model, variant)), measured.get((model, f))) for f in others)]
            )
            rounds.append(
                [label, *(paired(runs.get((model, variant), []), runs.get((model, f), [])) for f in others)]
            )
    header = [
        "model",
        "framework",
        "training rows/s",
        "epochs only rows/s",
        "prediction rows/s",
        "RSS with the data MiB",
        "fit peak RSS MiB",
        "prediction peak RSS MiB",
        "test ROC AUC",
    ]
    tables = [_common.markdown_table(header, rows)]
    others = [f for f in frameworks if f not in variants and f != FROM_STRINGS]
    if others:
        headers = ["sklearn_pangu × (training / epochs / prediction)", *(f"× {LABELS[f]}" for f in others)]
        tables.append(_common.markdown_table(headers, ratios))
        if any(len(results) > 1 for results in runs.values()):
            headers[0] = "sklearn_pangu ×, round by round: median (range)"
            tables.append(_common.markdown_table(headers, rounds))
    return "\n\n".join(tables)


def early_stopping_table(runs: dict, models: list[str], frameworks: list[str]) -> str:
    """Each framework's fit to its best validation epoch: epochs run, fit seconds, test ROC AUC.

    One row per run, its seed first; with two or more seeds, a last row per framework gives
    the mean ± standard deviation over them.
    """
    rows = []
    for model in models:
        for framework in frameworks:
            results = runs.get((model, framework), [])
            for result in results:
                rows.append(
                    [
                        _reference.NAMES[model],
                        LABELS.get(framework, framework),
                        str(result["round"]),
                        str(result["epochs"]),
                        f"{result['fit_seconds']:,.0f}",
                        auc(result),
                    ]
                )
            if len(results) > 1:
                aucs = [r["aucs"][0] for r in results]
                rows.append(
                    [
                        _reference.NAMES[model],
                        LABELS.get(framework, framework),
                        f"mean of {len(results)}",
                        f"{statistics.mean(r['epochs'] for r in results):.1f}",
                        f"{statistics.mean(r['fit_seconds'] for r in results):,.0f}",
                        f"{statistics.mean(aucs):.4f} ± {statistics.stdev(aucs):.4f}",
                    ]
                )
    header = ["model", "framework", "seed", "epochs run", "fit seconds", "test ROC AUC"]
    return _common.markdown_table(header, rows)


def zoo_table(runs: dict, models: list[str], variants: list[str]) -> str:
    measured = {key: best(results) for key, results in runs.items()}
    deepfm = measured.get(("DeepFMClassifier", "sklearn_pangu"))
    rows = []
    for variant in variants:
        for model in models:
            result = measured.get((model, variant))
            if result is None:
                continue
            relative = f"{deepfm['epoch_rows_per_s'] / result['epoch_rows_per_s']:.2f}" if deepfm else ""
            rows.append(
                [
                    model if variant == "sklearn_pangu" else f"{model}, {variant.split(', ', 1)[1]}",
                    *(f"{result[key]:,.0f}" for key in SPEEDS),
                    relative,
                    mib(result["fit_peak_mib"]),
                    mib(result["predict_peak_mib"]),
                    auc(result),
                ]
            )
    header = [
        "model",
        "training rows/s",
        "epochs only rows/s",
        "prediction rows/s",
        "epoch time × DeepFM's",
        "fit peak RSS MiB",
        "prediction peak RSS MiB",
        "test ROC AUC",
    ]
    return _common.markdown_table(header, rows)


def notes(args, dataset: str, epochs: int, models: list[str]) -> str:
    rounds = (
        " The round-by-round table compares each of sklearn_pangu's runs with the framework's run "
        "of the same round, next to it in time."
        if args.repeats > 1
        else ""
    )
    if args.zoo:
        return (
            f"Each estimator with its defaults, {epochs} epoch(s), no early stopping, each run in its "
            f"own process; best of {args.repeats} run(s), round-robin. Training rows/s include encoding "
            "the DataFrame; epochs only: history_ 'dur'; prediction: the fastest of "
            f"{PREDICT_PASSES} passes. Multi-task estimators: the click and its conversion as their tasks "
            "(AUC task 1 / task 2). The peaks are the process's resident memory (Linux VmHWM), counted "
            "anew for the fit and for the prediction."
        )
    timing = (
        f"{epochs} epoch(s); prediction batches of {_reference.predict_batch_size('cpu'):,} rows, the "
        f"fastest of {PREDICT_PASSES} passes. Each framework ran {args.repeats} time(s) per model, each run "
        "in its own process, round-robin; the tables keep the best rows/s, the largest peaks and the first "
        "run's AUC. sklearn_pangu's 'adam' is torch's fused Adam, the others use torch.optim.Adam's default. "
        "Epochs only: the training epochs alone (sklearn_pangu: history_ 'dur'; hand-written: its loop; "
        "DeepCTR-Torch: its epoch callbacks; torch-rechub: its train_one_epoch). The peaks are the "
        "process's resident memory (Linux VmHWM), counted anew for the fit and for the prediction."
    )
    if args.early_stopping:
        return (
            f"Each framework holds out the same {_peers_sequence.VALIDATION_FRACTION:.0%} of the training "
            "rows (the stratified split sklearn_pangu's early stopping draws with the run's seed as "
            "random_state), trains on "
            f"the rest with Adam at a constant learning rate for at most {epochs} epochs, stops after "
            f"{_peers_sequence.PATIENCE} epochs without a better validation ROC AUC and keeps the best "
            "epoch's weights (sklearn_pangu: early_stopping=True, n_iter_no_change="
            f"{_peers_sequence.PATIENCE}, learning_rate_decay=1.0; DeepCTR-Torch: its EarlyStopping on "
            "val_auc with restore_best_weights; torch-rechub: its CTRTrainer's earlystop_patience). Epochs "
            "run include the ones after the best. Each run in its own process; run r uses seed r "
            f"(r = 0..{args.repeats - 1}) in every framework: its validation rows, its network's initial "
            "weights and its shuffling. Fit seconds include the validation passes. The hand-written loop "
            "has no early stopping and is left out.\n\n"
            + _peers_sequence.notes(dataset, not args.without_batch_norm)
        )
    if dataset in SEQUENCE_DATASETS:
        return timing + rounds + "\n\n" + _peers_sequence.notes(dataset, not args.without_batch_norm)
    data = (
        "category and float columns"
        if dataset == "synthetic"
        else "Frappe's strings as categories of the training set's values, made before any clock"
    )
    fields = (
        "DeepCTR-Torch and torch-rechub feed dense features to the MLP as raw values, so their field "
        "interactions see the 26 categorical fields where sklearn_pangu's see 39."
        if dataset == "synthetic"
        else "Frappe has no numeric column: every framework's field interactions see the same 10 fields."
    )
    return (
        f"Embedding {_reference.EMBEDDING_DIM}, MLP {'-'.join(map(str, _reference.HIDDEN_UNITS))} with batch "
        "norm and ReLU, no dropout, no L2, Adam 1e-3, batch 4,096, each number one scaled field; "
        f"{_peers_networks.settings(models)}; two tasks for the multi-task networks "
        f"(AUC task 1 / task 2); {epochs} epoch(s); prediction batches of "
        f"{_reference.predict_batch_size('cpu'):,} rows, the fastest of {PREDICT_PASSES} passes. Each "
        f"framework ran {args.repeats} time(s) per model, each run in its own process, round-robin; the "
        "tables keep the best rows/s, the largest peaks and the first run's AUC. Every framework gets "
        f"the same DataFrame ({data}); sklearn_pangu's training time includes encoding it and building "
        "its network, the others start from label-encoded arrays and build their network before their "
        "clock starts. sklearn_pangu's 'adam' is torch's fused Adam, the others use torch.optim.Adam's "
        "default. Epochs only: the training epochs alone (sklearn_pangu: history_ 'dur'; hand-written: "
        "its loop; DeepCTR-Torch: its epoch callbacks; torch-rechub: its train_one_epoch). The peaks "
        "are the process's resident memory (Linux VmHWM), counted anew for the fit and for the "
        "prediction. "
        + fields
        + " See the docstring of benchmarks/bench_peers.py for the other differences."
        + rounds
        + _peers_networks.notes(models)
    )


def section_parts(args, models: list[str], every: list[str], frameworks: list[str], settings: list[dict]):
    """What a run covers beyond the full default run: its section's name carries these.

    ``every``: the models a full run measures on the dataset.
    """
    parts = []
    if models != every:
        parts += _common.short_names(models) if args.zoo else models
    if not args.zoo and frameworks != list(FRAMEWORKS):
        parts += frameworks
    parts += [_common.describe(s) for s in settings]
    if args.without_batch_norm:
        parts.append("without batch norm")
    parts += [name for name, _ in args.environment]
    if args.rows:
        parts.append(f"{args.rows} rows")
    return parts


def epochs_of(args, dataset: str) -> int:
    """The epochs of a run: ``--epochs``, else the most with ``--early-stopping``, else the dataset's."""
    return args.epochs or (EARLY_STOPPING_EPOCHS if args.early_stopping else EPOCHS[dataset])


def measure(args, dataset: str, models: list[str], runnable: list[str], variants: dict) -> dict:
    """Every run of the models and frameworks, round-robin: their results by (model, framework)."""
    runs: dict = {}
    environment = dict(args.environment)
    for model in models:
        for framework in runnable:
            if (framework, model) in MISSING:
                print(f"{LABELS[framework]} skipped for {model}: {MISSING[framework, model]}.")
        if args.early_stopping and "hand_written" in runnable:
            print(f"{LABELS['hand_written']} skipped for {model}: it has no early stopping.")
        for round_ in range(args.repeats):
            for framework in runnable:
                if (framework, model) in MISSING or (args.early_stopping and framework == "hand_written"):
                    continue
                spec = {
                    "framework": "sklearn_pangu" if framework in variants else framework,
                    "options": variants.get(framework, {}),
                    "model": model,
                    "zoo": args.zoo,
                    "dataset": dataset,
                    "rows": args.rows or (ZOO_ROWS if args.zoo else _common.SYNTHETIC_BASE),
                    "epochs": epochs_of(args, dataset),
                    "threads": args.threads,
                    "early_stopping": args.early_stopping,
                    # Quality runs draw each repeat anew: round r is seed r in every framework.
                    "seed": round_ if args.early_stopping else 0,
                    "batch_norm": not args.without_batch_norm,
                }
                if dataset in ("frappe", *SEQUENCE_DATASETS):
                    spec["rows"] = args.rows  # at most about this many rows; None: the dataset's own
                python = FRAMEWORKS.get(spec["framework"], Path(sys.executable))
                result = _common.in_child(
                    Path(__file__), [json.dumps(spec)], python=python, environment=environment
                )
                if result is None:
                    continue
                runs.setdefault((model, framework), []).append({**result, "round": round_})
                print(
                    f"{dataset} {model} {LABELS.get(framework, framework)}: "
                    + ", ".join(f"{what} {result[key]:,.0f} rows/s" for key, what in SPEEDS.items())
                    + f", fit peak {mib(result['fit_peak_mib'])} MiB, {result['epochs']} epoch(s), "
                    + f"AUC {auc(result)}",
                    flush=True,
                )
    return runs


def environment_setting(text: str) -> tuple[str, str]:
    """``--environment``'s ``NAME=VALUE``, as ``(name, value)``."""
    name, equals, value = text.partition("=")
    if not name or not equals:
        raise argparse.ArgumentTypeError(f"takes NAME=VALUE settings, not {text!r}")
    return name, value


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0], models=None, rows=None, repeats=3, threads=None)
    parser.add_argument("--datasets", nargs="+", choices=list(EPOCHS), default=DEFAULT_DATASETS)
    parser.add_argument("--frameworks", nargs="+", choices=list(FRAMEWORKS), default=list(FRAMEWORKS))
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs (default: " + ", ".join(f"{n} {d}" for d, n in EPOCHS.items()) + ")",
    )
    parser.add_argument(
        "--options",
        nargs="+",
        default=[],
        metavar="KEY=VALUE[,KEY=VALUE]",
        help="also sklearn_pangu with these parameters, one set per argument",
    )
    parser.add_argument("--zoo", action="store_true", help="every estimator with its defaults")
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="sequence datasets: every framework stops early on the same validation rows",
    )
    parser.add_argument(
        "--without-batch-norm",
        action="store_true",
        help="sequence datasets: the MLPs without batch norm (torch-rechub's keep it: its API has no switch)",
    )
    parser.add_argument(
        "--environment",
        nargs="+",
        type=environment_setting,
        default=[],
        metavar="NAME=VALUE",
        help="environment variables of every run's process, every framework alike (an allocator's settings)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = _common.parse(parser, quick={"rows": 5_000, "repeats": 1})
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    for flag, given in [
        ("--early-stopping", args.early_stopping),
        ("--without-batch-norm", args.without_batch_norm),
    ]:
        if given and (args.zoo or set(args.datasets) - SEQUENCE_DATASETS):
            parser.error(f"{flag} runs on the sequence datasets only: {sorted(SEQUENCE_DATASETS)}")
    import sklearn_pangu
    from sklearn_pangu.utils import all_estimators

    if args.zoo:
        every = [n for n, c in all_estimators() if hasattr(c, "_module_class")]
        every = ["DeepFMClassifier", *(n for n in every if n != "DeepFMClassifier")]
        behavior = [n for n in every if "behavior_features" in getattr(sklearn_pangu, n)().get_params()]
        if behavior:
            print(f"Not in the zoo (they need a history column; see --datasets movielens): {behavior}")
            every = [n for n in every if n not in behavior]
        quick_models = ["DeepFMClassifier", "AutoIntClassifier", "ESMMMultiOutput"]
    else:
        every = [*_reference.NETWORKS, *_reference.SEQUENCE_NETWORKS]
        quick_models = ["deepfm", "dcn", "xdeepfm", "mmoe", *_reference.SEQUENCE_NETWORKS]
    models = args.models or (quick_models if args.quick else every)
    if set(models) - set(every):
        parser.error(f"unknown models {sorted(set(models) - set(every))}; choose among {every}")
    if args.zoo:  # every epoch is compared with DeepFM's
        models = ["DeepFMClassifier", *(m for m in models if m != "DeepFMClassifier")]
    settings = [_common.options(text) for text in args.options]
    variants = {f"sklearn_pangu, {_common.describe(s)}": s for s in settings}
    frameworks = ["sklearn_pangu"] if args.zoo else list(args.frameworks)
    if {"deepctr_torch", "torch_rechub"} & set(frameworks) and not PEER_PYTHON.exists():
        print(
            f"DeepCTR-Torch and torch-rechub skipped: {PEER_PYTHON} does not exist; "
            "build it with `make bench-peers`."
        )
        frameworks = [f for f in frameworks if f not in ("deepctr_torch", "torch_rechub")]
    started = time.perf_counter()
    for dataset in ["synthetic"] if args.zoo else args.datasets:
        if not args.zoo:  # the sequence networks on the sequence datasets, the others elsewhere
            sequences = dataset in SEQUENCE_DATASETS
            every_here = [m for m in every if (m in _reference.SEQUENCE_NETWORKS) == sequences]
            here = [m for m in models if m in every_here]
        else:
            every_here, here = every, models
        if not here:
            continue
        reason = _peers_sequence.skip_reason(dataset) if dataset in SEQUENCE_DATASETS else None
        reason = _common.frappe_skip_reason() if dataset == "frappe" else reason
        if reason:
            print(reason)
            continue
        parts = section_parts(args, here, every_here, frameworks, settings)
        ours = [f for f in frameworks if f == "sklearn_pangu"]
        strings = [FROM_STRINGS] if dataset == "frappe" and ours else []
        runnable = [*ours, *strings, *variants, *(f for f in frameworks if f != "sklearn_pangu")]
        runs = measure(args, dataset, here, runnable, variants)
        if not runs:
            continue
        sample = next(iter(runs.values()))[0]
        epochs = epochs_of(args, dataset)
        if args.zoo:
            title = (
                f"Every estimator with its defaults, {sample['train_rows']:,} synthetic rows, {epochs} epoch"
            )
            tables, section = zoo_table(runs, here, ["sklearn_pangu", *variants]), "zoo"
        elif dataset == "synthetic":
            title = f"Side by side with the peers, {sample['train_rows']:,} synthetic rows, {epochs} epoch(s)"
            tables, section = peers_tables(runs, here, runnable, [*ours, *variants]), "peers"
        elif args.early_stopping:
            title = (
                f"Behaviour models beside the peers' at their best validation epoch, {SPLIT_TITLES[dataset]} "
                f"(train {sample['train_rows']:,} rows, predict {sample['test_rows']:,})"
                + (", MLPs without batch norm" if args.without_batch_norm else "")
            )
            tables, section = early_stopping_table(runs, here, runnable), f"peers_{dataset}_early_stopping"
        elif dataset == "movielens":
            title = (
                f"Behaviour models side by side with the peers on MovieLens, per-user split (train "
                f"{sample['train_rows']:,} rows, predict {sample['test_rows']:,}), {epochs} epoch(s)"
            )
            tables, section = peers_tables(runs, here, runnable, [*ours, *variants]), "peers_movielens"
        elif dataset == "behavior":
            title = (
                f"Behaviour models side by side with the peers, {sample['train_rows']:,} rows of "
                f"make_behavior_classification, {epochs} epoch(s)"
            )
            tables, section = peers_tables(runs, here, runnable, [*ours, *variants]), "peers_behavior"
        else:
            title = (
                f"Side by side with the peers on Frappe (train {sample['train_rows']:,} rows of "
                f"valid.csv.gz, predict {sample['test_rows']:,} of test.csv.gz), {epochs} epoch(s)"
            )
            tables, section = peers_tables(runs, here, runnable, [*ours, *variants]), "peers_frappe"
        environment = (
            "Every run's process started with the environment variables "
            + ", ".join(f"{name}={value}" for name, value in args.environment)
            + ". "
            if args.environment
            else ""
        )
        _common.publish(
            args,
            _common.section_name(section, *parts),
            title,
            tables,
            environment + notes(args, dataset, epochs, here),
        )
    print(f"bench_peers took {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
