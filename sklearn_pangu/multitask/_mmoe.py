"""MMOE: mixture-of-experts multi-task estimator (Ma et al., KDD 2018)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.multitask import MMOEModule
from ._base import BaseMultiTaskEstimator


@fill_shared_docs
class MMOEMultiOutput(BaseMultiTaskEstimator):
    """MMoE: experts shared by all tasks, mixed by one input-conditioned gate per task.

    The multi-gate mixture-of-experts [1]_: ``num_experts`` expert MLPs read the
    field embeddings; each task has its own softmax gate, conditioned on the same
    input, that weighs the experts; the mixture goes through the task's tower. The
    gates let weakly related tasks use different experts.

    Parameters
    ----------
    {embedding_dim}
    num_experts : int, default=8
        Number of experts.
    expert_units : tuple of int, default=(256, 128)
        Hidden layers of each expert MLP; the last is the expert's output size.
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
    OMOEMultiOutput : One gate shared by all tasks.
    PLEMultiOutput : Adds task-specific experts and stacks extraction levels.

    References
    ----------
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018.

    Examples
    --------
    >>> from sklearn_pangu import MMOEMultiOutput
    >>> from sklearn_pangu.datasets import load_census_income
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = MMOEMultiOutput(num_experts=2, expert_units=(16,), max_epochs=1, random_state=0)
    >>> [p.shape for p in model.fit(X[:2000], Y[:2000]).predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    """

    _parameter_constraints = {
        **BaseMultiTaskEstimator._parameter_constraints,
        "num_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": ["array-like"],
    }
    _module_class = MMOEModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        num_experts=8,
        expert_units=(256, 128),
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
        self.num_experts = num_experts
        self.expert_units = expert_units
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
            "num_experts": self.num_experts,
            "expert_units": validate_hidden_units(self.expert_units, "expert_units"),
            "shared_gate": False,
        }
