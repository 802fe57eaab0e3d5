"""PLE: progressive layered extraction multi-task estimator (Tang et al., RecSys 2020)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.multitask._ple import PLEModule
from ._base import BaseMultiTaskEstimator


@fill_shared_docs
class PLEMultiOutput(BaseMultiTaskEstimator):
    """PLE: stacked extraction levels of task-specific and shared experts with per-task gates.

    Progressive layered extraction [1]_. Each of the ``num_levels`` extraction
    levels (a customized gate control, CGC) holds ``num_specific_experts`` expert
    MLPs per task and ``num_shared_experts`` expert MLPs shared by all tasks. Task
    ``k``'s gate, a softmax conditioned on task ``k``'s input of the level, mixes
    task ``k``'s experts and the shared experts; in every level but the last a
    shared gate mixes all the level's experts into the shared input of the next
    level. The first level reads the flattened field embeddings; each task's
    tower reads its mixture of the last level. Separating task-specific from
    shared experts limits negative transfer and the seesaw between tasks.
    ``num_levels=1`` is the paper's single-level CGC model.

    Parameters
    ----------
    {embedding_dim}
    num_levels : int, default=2
        Number of extraction levels; 1 gives CGC.
    num_specific_experts : int, default=1
        Experts owned by each task in each level.
    num_shared_experts : int, default=1
        Experts shared by all tasks in each level.
    expert_units : tuple of int, default=(256, 128)
        Hidden layers of each expert MLP, in every level; the last is the
        expert's output size.
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
    MMOEMultiOutput : Experts all shared, one level, one gate per task.
    MLMMOEMultiOutput : Two levels of shared experts, every gate reading the input.

    Notes
    -----
    Each gate is a linear layer with a bias followed by a softmax, as in
    :class:`MMOEMultiOutput` (the paper writes ``softmax(W x)``).

    References
    ----------
    .. [1] H. Tang, J. Liu, M. Zhao and X. Gong, "Progressive Layered Extraction (PLE):
       A Novel Multi-Task Learning (MTL) Model for Personalized Recommendations",
       Proceedings of the 14th ACM Conference on Recommender Systems (RecSys 2020),
       pp. 269-278.

    Examples
    --------
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu import PLEMultiOutput
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = PLEMultiOutput(expert_units=(16,), tower_units=(8,), max_epochs=1, random_state=0)
    >>> model.fit(X[:2000], Y[:2000]).task_names_
    ['income', 'never_married']
    >>> model.predict(X[:5]).shape
    (5, 2)
    """

    _parameter_constraints = {
        **BaseMultiTaskEstimator._parameter_constraints,
        "num_levels": [Interval(Integral, 1, None, closed="left")],
        "num_specific_experts": [Interval(Integral, 1, None, closed="left")],
        "num_shared_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": ["array-like"],
    }
    _module_class = PLEModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        num_levels=2,
        num_specific_experts=1,
        num_shared_experts=1,
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
        self.num_levels = num_levels
        self.num_specific_experts = num_specific_experts
        self.num_shared_experts = num_shared_experts
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
            "num_levels": self.num_levels,
            "num_specific_experts": self.num_specific_experts,
            "num_shared_experts": self.num_shared_experts,
            "expert_units": validate_hidden_units(self.expert_units, "expert_units"),
        }
