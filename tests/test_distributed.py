"""Data-parallel training through accelerate: one process here, two under torchrun."""

from __future__ import annotations

import json
import pickle
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_pangu import DeepFMClassifier, MMOEMultiOutput
from sklearn_pangu._net import CTRNet
from sklearn_pangu.datasets import make_ctr_classification

accelerate = pytest.importorskip("accelerate", reason="accelerate (extra 'accelerate') is not installed")
from sklearn_pangu.distributed import fit_with_accelerator  # noqa: E402

SMALL = {"embedding_dim": 4, "max_epochs": 3, "batch_size": 64, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_ctr_classification(n_samples=600, n_sparse=4, n_dense=2, random_state=0)
    Y = np.column_stack([y, np.roll(y, 7)])
    return X, y, Y


@pytest.mark.parametrize(
    "make_estimator, target",
    [
        (lambda: DeepFMClassifier(hidden_units=(8,), **SMALL), 1),
        (lambda: MMOEMultiOutput(num_experts=2, expert_units=(8,), tower_units=(4,), **SMALL), 2),
    ],
    ids=["DeepFM", "MMoE"],
)
def test_one_process_matches_a_plain_fit_and_leaves_a_plain_estimator(data, make_estimator, target):
    X, y, Y = data
    labels = y if target == 1 else Y
    plain = make_estimator().fit(X, labels)
    accelerated = fit_with_accelerator(
        make_estimator(), X, labels, accelerator=accelerate.Accelerator(cpu=True)
    )

    assert type(accelerated.net_) is CTRNet
    assert not hasattr(accelerated, "_accelerator")
    np.testing.assert_array_equal(
        np.asarray(accelerated.predict_proba(X)), np.asarray(plain.predict_proba(X))
    )
    restored = pickle.loads(pickle.dumps(accelerated))
    np.testing.assert_array_equal(np.asarray(restored.predict_proba(X)), np.asarray(plain.predict_proba(X)))


def test_pipeline_and_random_state_none_are_restored(data):
    X, y, _ = data
    model = DeepFMClassifier(hidden_units=(8,), **{**SMALL, "random_state": None})
    pipeline = make_pipeline(FunctionTransformer(), model)
    fit_with_accelerator(pipeline, X, y, accelerator=accelerate.Accelerator(cpu=True))
    assert model.random_state is None
    assert pipeline.predict_proba(X).shape == (len(X), 2)


WORKER = textwrap.dedent(
    """
    import json, sys
    import torch
    from accelerate import Accelerator
    from skorch.callbacks import Callback
    from sklearn_pangu import DeepFMClassifier
    from sklearn_pangu.datasets import make_ctr_classification
    from sklearn_pangu.distributed import fit_with_accelerator

    class CountRows(Callback):
        def initialize(self):
            self.rows = 0
            return self
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            if training:
                self.rows += len(batch[0]["codes"])

    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    X, y = make_ctr_classification(n_samples=600, n_sparse=4, n_dense=2, random_state=0)
    counter = CountRows()
    model = DeepFMClassifier(hidden_units=(8,), embedding_dim=4, max_epochs=2, batch_size=64,
                             random_state=0, callbacks=[("count_rows", counter)])
    fit_with_accelerator(model, X, y, accelerator=accelerator)
    proba = model.predict_proba(X)[:, 1].tolist()
    rank = accelerator.process_index
    with open(f"{sys.argv[1]}/rank{rank}.json", "w") as file:
        json.dump({"rows": dict(model.net_.callbacks_)["count_rows"].rows,
                   "processes": accelerator.num_processes, "proba": proba}, file)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_share_the_rows_and_end_with_the_same_model(tmp_path: Path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [
        str(torchrun),
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(script),
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [r["processes"] for r in ranks] == [2, 2]
    # 600 rows are all training rows (600 <= the early-stopping threshold), 2 epochs.
    assert ranks[0]["rows"] + ranks[1]["rows"] == 2 * 600
    assert abs(ranks[0]["rows"] - ranks[1]["rows"]) <= 2 * 10
    np.testing.assert_array_equal(ranks[0]["proba"], ranks[1]["proba"])
