"""The behaviour-sequence side of ``bench_peers.py``: its data, and the peers' DIN, DIEN and BST.

Data (``--datasets``): ``movielens``, the per-user split of ``_movielens.py`` (the last 20%
of each user's ratings by time are the test rows; features ``user_id``, ``movie_id``,
``genres`` as a list and ``history``, the user's earlier movies, most recent last, up to
50; research-only data, skipped with the reason when absent), and ``behavior``,
``make_behavior_classification`` with histories of up to 50 items and a tenth as many
other rows to test (``user_id``, ``item_id``, ``history``). Each history attends to its
target item (:data:`BEHAVIOR`).

Every framework starts from the same DataFrame of text and list columns. sklearn_pangu
encodes it inside its fit; the hand-written loop, DeepCTR-Torch and torch-rechub get the
arrays a user of a plain PyTorch library prepares (:class:`_reference.SequenceCodes`: one
vocabulary per shared group, code 0 the pad, 1 unknown, lists right-padded to the same
length as sklearn_pangu's, the most recent items kept), made before their clock starts.

DeepCTR-Torch 0.3.0 (``run_deepctr_torch``): ``DIN`` and ``DIEN`` on ``SparseFeat`` and
``VarLenSparseFeat`` columns; the history is named ``hist_<target>`` with
``embedding_name=<target>`` (one table) and ``length_name`` (its mask); other list columns
are mean-pooled ``VarLenSparseFeat`` masked at code 0. DIEN runs with
``use_negsampling=True``: its auxiliary loss, like sklearn_pangu's, needs a negative item
per behaviour, which DeepCTR-Torch takes as a ``neg_hist_<target>`` column that the user
builds (:func:`negative_codes`, once, before the clock; sklearn_pangu draws new ones every
batch). torch-rechub 0.9.0 (``run_torch_rechub``): ``DIN``, ``DIEN`` and ``BST`` on
``SparseFeature`` and ``SequenceFeature(shared_with=<target>, padding_idx=0)`` columns, its
``CTRTrainer`` fed by a ``DataLoader`` over its ``TorchDataset``; DIEN's negatives are the
same user-built column.
"""

from __future__ import annotations

import time

import _common
import _movielens
import _reference
import numpy as np

#: Each sequence dataset's history column and the target column it attends to.
BEHAVIOR = {"movielens": _movielens.BEHAVIOR, "behavior": {"history": "item_id"}}
#: Training rows of ``behavior`` unless ``--rows`` says otherwise.
BEHAVIOR_ROWS = 100_000
ATTENTION_UNITS = _reference.SEQUENCE_NETWORKS["din"][1]["attention_units"]
#: ``--early-stopping``: epochs without a better validation ROC AUC before a fit stops.
PATIENCE = 3
#: ``--early-stopping``: the share of the training rows held out for validation.
VALIDATION_FRACTION = 0.1


def skip_reason(dataset: str) -> str | None:
    """Why a sequence dataset cannot run here, or None."""
    return _movielens.skip_reason() if dataset == "movielens" else None


def load(dataset: str, rows: int | None):
    """``(X_train, X_test, y_train, y_test)`` of a sequence dataset; ``rows``: at most about this many."""
    if dataset == "movielens":
        return _movielens.load("per_user", rows=rows)
    from sklearn_pangu.datasets import make_behavior_classification

    n = rows or BEHAVIOR_ROWS
    X, y = make_behavior_classification(
        n + max(n // 10, 1), max_history=_reference.MAX_SEQUENCE_LENGTH, random_state=0
    )
    return X.iloc[:n], X.iloc[n:].reset_index(drop=True), y[:n], y[n:]


def the_pair(dataset: str) -> tuple[str, str]:
    """The one (history, target) pair of a dataset: the peers' runs here take one."""
    if len(BEHAVIOR[dataset]) != 1:
        raise SystemExit(f"the peers' runs take one history column; {dataset} has {BEHAVIOR[dataset]}")
    return next(iter(BEHAVIOR[dataset].items()))


def validation_rows(y, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The rows sklearn_pangu's early stopping trains and validates on: ``(train, valid)`` indices.

    What ``fit`` holds out with ``random_state``, ``validation_fraction=VALIDATION_FRACTION``
    and a stratified split (its first draw of ``check_random_state(random_state)`` seeds
    ``train_test_split``), so that every framework validates on the same rows.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    split_seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max, size=2)[0])
    indices = np.arange(len(y))
    return train_test_split(indices, test_size=VALIDATION_FRACTION, stratify=y, random_state=split_seed)


def negative_codes(history: np.ndarray, vocabulary_size: int, seed: int = 0) -> np.ndarray:
    """A negative item per behaviour: a code drawn uniformly among the known items (2 ..) but its own.

    ``history``: a list column's code matrix (0 the pad, 1 unknown); pads stay 0.

    Examples
    --------
    >>> negative_codes(np.array([[2, 3, 0]]), 4).tolist()
    [[3, 2, 0]]
    """
    known = history >= 2
    choices = (vocabulary_size - 2) - known
    draws = 2 + (np.random.default_rng(seed).random(history.shape) * np.maximum(choices, 1)).astype(np.int64)
    draws += known & (draws >= history)
    return np.where(history > 0, draws, 0)


# Timing the peers' own loops (every peer run of bench_peers.py uses these) -------------------


def deepctr_fit(model, inputs: dict, y, epochs: int, validation=None) -> tuple[float, float, int]:
    """Compile a DeepCTR-Torch model with Adam and fit it: the fit's and its epochs' seconds, the epochs.

    The epochs are timed between DeepCTR-Torch's ``on_epoch_begin`` and ``on_epoch_end``
    callbacks: its batch loop. With ``validation`` ``(inputs, y)``: its ``EarlyStopping`` on the
    validation ROC AUC (``PATIENCE``), and the best epoch's weights kept.
    """
    import torch
    from deepctr_torch.callbacks import Callback, EarlyStopping

    loss = "binary_crossentropy" if np.ndim(y) == 1 else ["binary_crossentropy"] * np.shape(y)[1]
    metrics = ["auc"] if validation is not None else None
    model.compile(torch.optim.Adam(model.parameters(), lr=_reference.LEARNING_RATE), loss, metrics=metrics)
    epoch_seconds = []

    class EpochTimer(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    callbacks = [EpochTimer()]
    if validation is not None:
        stopper = EarlyStopping("val_auc", patience=PATIENCE, mode="max", restore_best_weights=True)
        callbacks.append(stopper)

    def fit():
        model.fit(
            inputs,
            np.asarray(y),
            batch_size=_reference.BATCH_SIZE,
            epochs=epochs,
            verbose=0,
            callbacks=callbacks,
            validation_data=None if validation is None else (validation[0], np.asarray(validation[1])),
        )
        if validation is not None and stopper.best_weights is not None:
            model.load_state_dict(stopper.best_weights)  # also when it ran all its epochs

    (fit_seconds,), _ = _common.clock(fit)
    return fit_seconds, sum(epoch_seconds), len(epoch_seconds)


def rechub_fit(trainer, fit) -> tuple[float, float, int]:
    """Run ``fit()`` (a torch-rechub trainer's fit): its and the trainer's epochs' seconds, the epochs.

    The epochs are the trainer's ``train_one_epoch`` calls.
    """
    epoch_seconds = []
    train_one_epoch = trainer.train_one_epoch

    def timed_epoch(*args, **kwargs):
        start = time.perf_counter()
        try:
            return train_one_epoch(*args, **kwargs)
        finally:
            epoch_seconds.append(time.perf_counter() - start)

    trainer.train_one_epoch = timed_epoch
    (fit_seconds,), _ = _common.clock(fit)
    return fit_seconds, sum(epoch_seconds), len(epoch_seconds)


# The peers' behaviour models -------------------------------------------------------------------


def run_deepctr_torch(spec, X, y, X_test):
    """DeepCTR-Torch's DIN or DIEN on ``X``: the fit's and its epochs' seconds, a predictor, the epochs."""
    from deepctr_torch.inputs import DenseFeat, SparseFeat, VarLenSparseFeat
    from deepctr_torch.models import DIEN, DIN

    network = spec["model"]
    history, target = the_pair(spec["dataset"])
    codes = _reference.SequenceCodes(X, BEHAVIOR[spec["dataset"]], _reference.MAX_SEQUENCE_LENGTH)
    dim, size = _reference.EMBEDDING_DIM, codes.vocabulary_size(history)

    def inputs(frame, seed: int) -> dict:
        arrays = codes.transform(frame)
        named = {c: v for c, v in arrays.items() if c != history}
        named[f"hist_{target}"] = arrays[history]
        named["seq_length"] = _reference.sequence_lengths(arrays[history])
        if network == "dien":
            named[f"neg_hist_{target}"] = negative_codes(arrays[history], size, seed)
        return named

    columns = [
        SparseFeat(c, codes.vocabulary_size(c), dim, embedding_name=codes.group(c)) for c in codes.scalars
    ]
    columns += [
        VarLenSparseFeat(
            SparseFeat(c, codes.vocabulary_size(c), dim, embedding_name=codes.group(c)),
            maxlen=codes.lengths[c],
            combiner="mean",
        )
        for c in codes.lists
        if c != history
    ]
    columns += [DenseFeat(c, 1) for c in codes.dense]
    columns.append(
        VarLenSparseFeat(
            SparseFeat(f"hist_{target}", size, dim, embedding_name=codes.group(history)),
            maxlen=codes.lengths[history],
            length_name="seq_length",
        )
    )
    shared = {
        "dnn_hidden_units": _reference.HIDDEN_UNITS,
        "dnn_activation": "relu",
        "l2_reg_dnn": 0.0,
        "l2_reg_embedding": 0.0,
        "dnn_dropout": 0.0,
        "init_std": 1e-4,
        "seed": spec["seed"],
        "task": "binary",
        "device": "cpu",
    }
    if network == "din":
        model = DIN(
            columns,
            [target],
            dnn_use_bn=spec.get("batch_norm", True),
            att_hidden_size=ATTENTION_UNITS,
            att_activation="Dice",
            att_weight_normalization=False,
            **shared,
        )
    elif network == "dien":
        columns.append(
            VarLenSparseFeat(
                SparseFeat(f"neg_hist_{target}", size, dim, embedding_name=codes.group(history)),
                maxlen=codes.lengths[history],
            )
        )
        model = DIEN(
            columns,
            [target],
            gru_type="AUGRU",
            use_negsampling=True,
            alpha=1.0,
            use_bn=spec.get("batch_norm", True),
            att_hidden_units=ATTENTION_UNITS,
            att_weight_normalization=True,
            **shared,
        )
    else:
        raise SystemExit(f"DeepCTR-Torch has no {network}")
    X_fit, y_fit, validation = X, np.asarray(y), None
    if spec.get("early_stopping"):
        fit_rows, valid_rows = validation_rows(y_fit, spec["seed"])
        validation = (inputs(X.iloc[valid_rows], seed=2), y_fit[valid_rows])
        X_fit, y_fit = X.iloc[fit_rows], y_fit[fit_rows]
    train = inputs(X_fit, seed=0)
    fit_seconds, epoch_seconds, epochs = deepctr_fit(model, train, y_fit, spec["epochs"], validation)
    test = inputs(X_test, seed=1)

    def predict():
        return model.predict(test, batch_size=_reference.predict_batch_size("cpu")).ravel()

    return fit_seconds, epoch_seconds, predict, epochs


def run_torch_rechub(spec, X, y, X_test):
    """torch-rechub's DIN, DIEN or BST on ``X``: the fit's and epochs' seconds, a predictor, the epochs."""
    import torch
    from torch.utils.data import DataLoader
    from torch_rechub.basic.features import DenseFeature, SequenceFeature, SparseFeature
    from torch_rechub.models.ranking import BST, DIEN, DIN
    from torch_rechub.trainers import CTRTrainer
    from torch_rechub.utils.data import TorchDataset

    network = spec["model"]
    history, target = the_pair(spec["dataset"])
    codes = _reference.SequenceCodes(X, BEHAVIOR[spec["dataset"]], _reference.MAX_SEQUENCE_LENGTH)
    dim, size = _reference.EMBEDDING_DIM, codes.vocabulary_size(history)
    # padding_idx=0 on every table: its row 0 (the pad) is zero and never trained, so that a
    # pad adds nothing where torch-rechub does not mask (DIN's attention sum).
    features = [
        SparseFeature(c, vocab_size=codes.vocabulary_size(c), embed_dim=dim, padding_idx=0)
        for c in codes.scalars
        if c != target
    ]
    features += [
        SequenceFeature(c, vocab_size=codes.vocabulary_size(c), embed_dim=dim, pooling="mean", padding_idx=0)
        for c in codes.lists
        if c != history
    ]
    features += [DenseFeature(c) for c in codes.dense]
    targets = [SparseFeature(target, vocab_size=size, embed_dim=dim, padding_idx=0)]
    histories = [
        SequenceFeature(
            history, vocab_size=size, embed_dim=dim, pooling="concat", shared_with=target, padding_idx=0
        )
    ]
    negatives = f"negative_{history}"

    def inputs(frame, seed: int) -> dict:
        arrays = codes.transform(frame)
        if network == "dien":
            arrays[negatives] = negative_codes(arrays[history], size, seed)
        return arrays

    torch.manual_seed(spec["seed"])
    mlp = {"dims": list(_reference.HIDDEN_UNITS), "dropout": 0.0}
    if network == "din":
        attention = {"dims": list(ATTENTION_UNITS), "activation": "dice", "use_softmax": False}
        model = DIN(features, histories, targets, mlp_params=mlp, attention_mlp_params=attention)
    elif network == "dien":
        negative = SequenceFeature(
            negatives, vocab_size=size, embed_dim=dim, pooling="concat", shared_with=target, padding_idx=0
        )
        model = DIEN(features, histories, [negative], targets, mlp_params=mlp, alpha=1.0)
    elif network == "bst":
        own = _reference.SEQUENCE_NETWORKS["bst"][1]
        model = BST(
            features,
            histories,
            targets,
            mlp_params={**mlp, "activation": "relu"},
            nhead=own["num_heads"],
            dropout=0.0,
            num_layers=own["num_transformer_layers"],
            max_seq_len=codes.lengths[history] + 1,
        )
    else:
        raise SystemExit(f"torch-rechub has no {network}")
    trainer = CTRTrainer(
        model,
        optimizer_params={"lr": _reference.LEARNING_RATE, "weight_decay": 0.0},
        n_epoch=spec["epochs"],
        earlystop_patience=PATIENCE,  # used only with a validation loader
        device="cpu",
        model_path="/tmp",
        loss_mode=network != "dien",  # its DIEN returns (prediction, auxiliary loss)
    )
    X_fit, labels, validation = X, np.asarray(y, dtype=np.float32), None
    if spec.get("early_stopping"):
        fit_rows, valid_rows = validation_rows(labels, spec["seed"])
        valid = TorchDataset(inputs(X.iloc[valid_rows], seed=2), labels[valid_rows])
        validation = DataLoader(valid, batch_size=_reference.predict_batch_size("cpu"))
        X_fit, labels = X.iloc[fit_rows], labels[fit_rows]
    train = inputs(X_fit, seed=0)

    def fit():
        # What torch-rechub's DataGenerator.generate_dataloader builds for a training set.
        loader = DataLoader(TorchDataset(train, labels), batch_size=_reference.BATCH_SIZE, shuffle=True)
        trainer.fit(loader, validation)
        if trainer.early_stopper.best_weights is not None:
            model.load_state_dict(trainer.early_stopper.best_weights)  # also when it ran all its epochs

    fit_seconds, epoch_seconds, epochs = rechub_fit(trainer, fit)
    test = inputs(X_test, seed=1)
    rows = _reference.predict_batch_size("cpu")

    def predict():
        loader = DataLoader(TorchDataset(test, np.zeros(len(X_test), dtype=np.float32)), batch_size=rows)
        return np.asarray(trainer.predict(model, loader))

    return fit_seconds, epoch_seconds, predict, epochs


RUNNERS = {"deepctr_torch": run_deepctr_torch, "torch_rechub": run_torch_rechub}


def notes(dataset: str, batch_norm: bool = True) -> str:
    """The networks of a sequence table, the data each framework gets, and what differs in each peer's.

    ``batch_norm``: whether the MLPs have batch norm (``--without-batch-norm``: torch-rechub's keep it).
    """
    units = "-".join(map(str, ATTENTION_UNITS))
    data = (
        "MovieLens ml-latest-small, per-user split: the last 20% of each user's ratings by time are the "
        "test rows; features user_id, movie_id, genres (a list) and history (the user's earlier movies)"
        if dataset == "movielens"
        else "make_behavior_classification(max_history=50, random_state=0): user_id, item_id, history"
    )
    mlp = "with batch norm and ReLU" if batch_norm else "with ReLU and no batch norm"
    rechub = (
        ""
        if batch_norm
        else "\n- torch-rechub: its MLPs keep batch norm after each linear layer (its API has no switch)."
    )
    return (
        f"Data: {data}. Every framework gets the same DataFrame of text and list columns; sklearn_pangu "
        "encodes it inside its fit, the others start from arrays label-encoded before their clock (one "
        "vocabulary per shared group, code 0 the pad, lists right-padded to the same length, the most "
        f"recent {_reference.MAX_SEQUENCE_LENGTH} items kept). Networks: embedding "
        f"{_reference.EMBEDDING_DIM}, history and target item in one table, MLP "
        f"{'-'.join(map(str, _reference.HIDDEN_UNITS))} {mlp}, no dropout, no L2, Adam "
        f"1e-3, batch {_reference.BATCH_SIZE:,}. DIN: activation unit {units} on [target, behaviour, "
        "difference, product] with Dice, no softmax, pads weighed 0. DIEN: GRU and AUGRU of the embedding "
        "size, auxiliary loss (the next behaviour against a negative item) at weight 1. BST: one "
        "transformer block, 2 heads.\n\n"
        "What differs, where the peers' APIs leave no choice:\n"
        "- Hand-written DIN: the same network in plain PyTorch (an nn.Embedding per vocabulary, the "
        "activation unit on the concatenation, Dice's moments over the valid slots as in sklearn_pangu); "
        "it computes every slot of the padded history, where sklearn_pangu drops the slots empty in the "
        "whole batch.\n"
        "- DeepCTR-Torch DIN: Dice's batch moments include the padded slots; it sums the log loss over "
        "a batch where the others average it.\n"
        "- DeepCTR-Torch DIEN, with use_negsampling=True (without negatives it trains no auxiliary "
        "loss, unlike sklearn_pangu's and torch-rechub's DIEN): the negatives are a neg_hist column "
        "the user builds, drawn once before the clock, where "
        "sklearn_pangu draws new ones every batch; the auxiliary loss scores [state, item] with an MLP "
        f"100-50 instead of their inner product; the evolving layer's attention is DIN's unit {units} "
        "(ReLU) with a softmax instead of a bilinear form; its MLP sees the history and the single-value "
        "columns only (no genres); its auxiliary loss, a mean, is added at weight 1 to a log loss summed "
        "over the batch.\n"
        "- torch-rechub DIN has no mask: the pads look up its zero, frozen row (padding_idx=0), so they "
        "add nothing to the sum, but the activation unit's batch norm and Dice see them; its activation "
        "unit has batch norm, its Dice normalises each slot over the units (not over the batch) and "
        "starts alpha at random, and its top MLP's activation is Dice (fixed by its API).\n"
        "- torch-rechub DIEN: the top MLP's activation is Dice (fixed by its API); auxiliary loss at "
        "weight 1 (its default is 0.2); the negatives as for DeepCTR-Torch.\n"
        "- torch-rechub BST: learned absolute positions from the oldest item, where sklearn_pangu's count "
        "by recency; the feed-forward network is 2,048 wide (torch's TransformerEncoderLayer default, "
        "which its API does not expose) where sklearn_pangu's is 4 × the embedding; both MLPs read the "
        "output at the target item." + rechub
    )
