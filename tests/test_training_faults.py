"""Faults during training and prediction: non-finite losses, interrupts, running out of memory."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_pangu import DeepFMClassifier, FMClassifier, MMOEMultiOutput
from sklearn_pangu.callbacks import SkipNonFiniteLoss
from sklearn_pangu.datasets import make_ctr_classification
from sklearn_pangu.exceptions import NonFiniteLossError


@pytest.fixture(scope="module")
def data():
    return make_ctr_classification(400, n_sparse=3, n_dense=2, random_state=0)


def weights(model):
    return {name: t.detach().clone() for name, t in model.net_.module_.state_dict().items()}


class PoisonBatch(Callback):
    """Make the loss of one training batch NaN by poisoning its dense input, leaving the weights alone."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) == self.batch:
            batch[0]["dense"] = torch.full_like(batch[0]["dense"], float("nan"))


class RecordWeights(Callback):
    """Keep a copy of the module's state at the start of each training batch."""

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.before_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


class Interrupt(Callback):
    """Raise KeyboardInterrupt at the end of epoch ``epoch``, or in its batch ``batch``."""

    def __init__(self, epoch, batch=None):
        self.epoch, self.batch = epoch, batch

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if self.batch is not None and training and len(net.history) == self.epoch:
            if len(net.history[-1]["batches"]) == self.batch:
                raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if self.batch is None and len(net.history) == self.epoch:
            raise KeyboardInterrupt


class Snapshot(Callback):
    """Keep a copy of the module's state at the end of each epoch."""

    def on_train_begin(self, net, **kwargs):
        self.states_ = {}

    def on_epoch_end(self, net, **kwargs):
        self.states_[len(net.history)] = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


# ------------------------------------------------------------------ non-finite loss
def test_non_finite_loss_names_epoch_and_batch_and_applies_no_step(data, tiny):
    X, y = data
    recorder = RecordWeights()
    model = tiny(
        DeepFMClassifier, callbacks=[recorder, PoisonBatch(2, 3)], max_epochs=4, early_stopping=False
    )
    with pytest.raises(FloatingPointError, match="batch 3 of epoch 2") as info:
        model.fit(X, y)
    assert isinstance(info.value, NonFiniteLossError)
    assert (info.value.epoch, info.value.batch) == (2, 3)
    assert "from before the failing batch" in str(info.value)
    # The failed fit leaves the estimator unfitted; what it trained comes with the error, with
    # exactly the weights from before the failing batch: no step was taken with it.
    assert not hasattr(model, "net_")
    trained = info.value.trained_estimator
    after = weights(trained)
    for name, tensor in recorder.before_.items():
        torch.testing.assert_close(after[name], tensor, rtol=0, atol=0, msg=name)
    assert np.isfinite(trained.predict_proba(X)).all()


def test_non_finite_weights_go_back_to_the_start_of_the_epoch(data, tiny):
    X, y = data

    class PoisonWeights(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training and len(net.history) == 2 and len(net.history[-1]["batches"]) == 2:
                net.module_.embedding.table.weight.data[:] = float("inf")

    snapshot = Snapshot()
    model = tiny(FMClassifier, callbacks=[snapshot, PoisonWeights()], max_epochs=4, early_stopping=False)
    with pytest.raises(FloatingPointError, match="from the start of epoch 2") as info:
        model.fit(X, y)
    trained = info.value.trained_estimator
    after = weights(trained)
    for name, tensor in snapshot.states_[1].items():
        torch.testing.assert_close(after[name], tensor, rtol=0, atol=0, msg=name)
    assert np.isfinite(trained.predict_proba(X)).all()


def test_non_finite_loss_keeps_best_validation_weights_with_early_stopping(data, tiny):
    X, y = data
    model = tiny(FMClassifier, callbacks=[PoisonBatch(3, 1)], max_epochs=5, early_stopping=True)
    with pytest.raises(FloatingPointError, match="best validation epoch") as info:
        model.fit(X, y)
    assert np.isfinite(info.value.trained_estimator.predict_proba(X)).all()


def test_skip_non_finite_loss_skips_the_batch_and_warns(data, tiny):
    X, y = data
    recorder = RecordWeights()

    class Check(Callback):
        """Right after the poisoned batch, the weights are unchanged."""

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training and len(net.history) == 2 and len(net.history[-1]["batches"]) == 3:
                self.after_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
                self.before_ = recorder.before_

    check = Check()
    model = tiny(
        DeepFMClassifier,
        callbacks=[recorder, PoisonBatch(2, 3), SkipNonFiniteLoss(), check],
        max_epochs=3,
        early_stopping=False,
    )
    with pytest.warns(UserWarning, match="Skipped 1 training batch"):
        model.fit(X, y)
    assert model.n_iter_ == 3
    assert list(model.history_[:, "skipped_batches"]) == [0, 1, 0]
    for name, tensor in check.before_.items():  # batch-norm statistics included
        torch.testing.assert_close(check.after_[name], tensor, rtol=0, atol=0, msg=name)
    assert np.isfinite(model.predict_proba(X)).all()


def test_skip_non_finite_loss_still_stops_when_weights_are_non_finite(data, tiny):
    X, y = data

    class PoisonWeights(Callback):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history) == 2:
                net.module_.linear.bias.data.fill_(float("nan"))

    model = tiny(FMClassifier, callbacks=[PoisonWeights(), SkipNonFiniteLoss()], max_epochs=3)
    with pytest.raises(FloatingPointError, match="batch 1 of epoch 2.*start of epoch 2") as info:
        model.fit(X, y)
    assert torch.isfinite(info.value.trained_estimator.net_.module_.linear.bias).all()


def test_non_finite_loss_in_a_multitask_fit_names_the_batch(tiny):
    X, y = make_ctr_classification(300, n_sparse=3, n_dense=2, random_state=0)
    y = np.column_stack([y, np.random.RandomState(0).randint(0, 2, len(y))])
    model = tiny(MMOEMultiOutput, callbacks=[PoisonBatch(1, 2)], max_epochs=2, early_stopping=False)
    with pytest.raises(FloatingPointError, match="batch 2 of epoch 1") as info:
        model.fit(X, y)
    assert all(np.isfinite(p).all() for p in info.value.trained_estimator.predict_proba(X))


# ------------------------------------------------------------------------ interrupt
def test_interrupt_at_epoch_end_leaves_a_fitted_estimator(data, tiny):
    X, y = data
    snapshot = Snapshot()
    model = tiny(FMClassifier, callbacks=[snapshot, Interrupt(2)], max_epochs=5, early_stopping=False)
    with pytest.warns(UserWarning, match=r"interrupted \(KeyboardInterrupt\) in epoch 2.*end of epoch 2"):
        model.fit(X, y)
    assert model.n_iter_ == 2
    assert model.predict_proba(X).shape == (len(X), 2)


def test_interrupt_mid_epoch_goes_back_to_the_last_complete_epoch(data, tiny):
    X, y = data
    snapshot = Snapshot()
    model = tiny(
        FMClassifier, callbacks=[snapshot, Interrupt(3, batch=2)], max_epochs=5, early_stopping=False
    )
    with pytest.warns(UserWarning, match="in epoch 3.*end of epoch 2"):
        model.fit(X, y)
    assert model.n_iter_ == 2
    after = weights(model)
    for name, tensor in snapshot.states_[2].items():
        torch.testing.assert_close(after[name], tensor, rtol=0, atol=0, msg=name)
    assert np.isfinite(model.predict_proba(X)).all()


def test_interrupt_with_early_stopping_keeps_the_best_epoch(data, tiny):
    X, y = data
    snapshot = Snapshot()
    model = tiny(FMClassifier, callbacks=[snapshot, Interrupt(3, batch=1)], max_epochs=5, early_stopping=True)
    with pytest.warns(UserWarning, match=r"best validation epoch \((\d)\)") as record:
        model.fit(X, y)
    best = int(record[0].message.args[0].split("epoch (")[1][0])
    after = weights(model)
    for name, tensor in snapshot.states_[best].items():
        torch.testing.assert_close(after[name], tensor, rtol=0, atol=0, msg=name)
    assert model.predict(X).shape == (len(X),)


def test_interrupt_in_the_first_batch_keeps_the_initial_weights(data, tiny):
    X, y = data
    model = tiny(FMClassifier, callbacks=[Interrupt(1, batch=1)], max_epochs=3, early_stopping=False)
    with pytest.warns(UserWarning, match="initial weights"):
        model.fit(X, y)
    assert model.n_iter_ == 0
    assert model.predict_proba(X).shape == (len(X), 2)


# ---------------------------------------------------------------------- out of memory
def _raise_oom(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_in_training_advises_a_smaller_batch_size(data, monkeypatch, tiny):
    X, y = data
    model = tiny(FMClassifier, max_epochs=1, early_stopping=False)
    monkeypatch.setattr(model._module_class, "forward", _raise_oom)
    with pytest.raises(torch.cuda.OutOfMemoryError, match="smaller batch_size") as info:
        model.fit(X, y)
    assert "Tried to allocate" in str(info.value)
    assert isinstance(info.value.__cause__, torch.OutOfMemoryError)


def test_out_of_memory_in_validation_names_the_validation_batch_size(data, monkeypatch, tiny):
    X, y = data

    class OOMInValidation(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if not training:
                _raise_oom()

    model = tiny(FMClassifier, callbacks=[OOMInValidation()], max_epochs=1, early_stopping=True)
    expected = "validation pass, which runs batches of 1024 rows.*predict_batch_size"
    with pytest.raises(torch.OutOfMemoryError, match=expected):
        model.fit(X, y)


def test_out_of_memory_in_prediction_names_the_prediction_batch_size(data, monkeypatch, tiny):
    X, y = data
    model = tiny(FMClassifier, max_epochs=1).fit(X, y)
    monkeypatch.setattr(type(model.net_.module_), "forward", _raise_oom)
    with pytest.raises(
        torch.OutOfMemoryError, match="predicting in batches of 1024 rows.*predict_batch_size"
    ):
        model.predict_proba(X)


def test_early_stopping_is_not_reported_as_an_interrupt(data, recwarn, tiny):
    # skorch's EarlyStopping stops training by raising KeyboardInterrupt itself.
    X, y = data
    model = tiny(FMClassifier, early_stopping=True, n_iter_no_change=1, max_epochs=30, learning_rate=0.3)
    model.fit(X, y)
    assert model.n_iter_ < 30
    assert model.n_iter_ == len(model.history_)
    assert not [w for w in recwarn if "interrupted" in str(w.message)]
    assert model.net_.interrupted_ is None
