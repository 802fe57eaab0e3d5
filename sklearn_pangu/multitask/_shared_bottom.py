"""Shared-Bottom multi-task estimator (Caruana, 1997)."""

from __future__ import annotations

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.multitask import ShareBottomModule
from ._base import BaseMultiTaskEstimator


@fill_shared_docs
class ShareBottomMultiOutput(BaseMultiTaskEstimator):
    """Shared-Bottom: one MLP shared by all tasks, then one tower per task.

    The classic hard-parameter-sharing network [1]_: the field embeddings go
    through a bottom MLP that every task shares; each task's tower maps the
    bottom's output to its logit. The baseline the gated models improve on when
    the tasks are weakly related.

    Parameters
    ----------
    {embedding_dim}
    bottom_units : tuple of int, default=(256, 128)
        Hidden layers of the shared bottom MLP.
    {tower_units}
    {dropout}
    {batch_norm}
    {embedding_l2}
    {task_weights}
    {training}

    Attributes
    ----------
    {multitask_attributes}

    See Also
    --------
    MMOEMultiOutput : Replaces the shared bottom by experts mixed per task.

    References
    ----------
    .. [1] R. Caruana, "Multitask Learning", Machine Learning 28, 41-75, 1997.

    Examples
    --------
    >>> from sklearn_pangu import ShareBottomMultiOutput
    >>> from sklearn_pangu.datasets import load_census_income
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = ShareBottomMultiOutput(bottom_units=(32,), max_epochs=1, random_state=0)
    >>> model.fit(X[:2000], Y[:2000]).task_names_
    ['income', 'never_married']
    """

    _parameter_constraints = {**BaseMultiTaskEstimator._parameter_constraints, "bottom_units": ["array-like"]}
    _module_class = ShareBottomModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        bottom_units=(256, 128),
        tower_units=(64,),
        dropout=0.2,
        batch_norm=True,
        embedding_l2=0.01,
        task_weights=None,
        learning_rate=1e-3,
        learning_rate_decay=0.1,
        optimizer="adam",
        sparse_embeddings=False,
        batch_size=1024,
        predict_batch_size="auto",
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        categorical_features="from_dtype",
        numeric_encoding="scale_and_bucket",
        n_bins=32,
        multi_value_features=None,
        max_sequence_length=50,
        shared_vocabulary=None,
        sequence_pooling="mean",
        device="cpu",
        mixed_precision=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.embedding_dim = embedding_dim
        self.bottom_units = bottom_units
        self.tower_units = tower_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.embedding_l2 = embedding_l2
        self.task_weights = task_weights
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.optimizer = optimizer
        self.sparse_embeddings = sparse_embeddings
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.numeric_encoding = numeric_encoding
        self.n_bins = n_bins
        self.multi_value_features = multi_value_features
        self.max_sequence_length = max_sequence_length
        self.shared_vocabulary = shared_vocabulary
        self.sequence_pooling = sequence_pooling
        self.device = device
        self.mixed_precision = mixed_precision
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _module_params(self) -> dict:
        return {
            **super()._module_params(),
            "bottom_units": validate_hidden_units(self.bottom_units, "bottom_units"),
        }
