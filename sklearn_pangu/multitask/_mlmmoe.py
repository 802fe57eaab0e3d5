"""Multi-level MMoE: MMoE gating over two levels of experts."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.multitask._mlmmoe import MLMMOEModule
from ._base import BaseMultiTaskEstimator


@fill_shared_docs
class MLMMOEMultiOutput(BaseMultiTaskEstimator):
    """Multi-level MMoE: level-2 experts read gated mixtures of level-1 experts; one gate per task.

    The multi-gate mixture-of-experts [1]_ applied twice. ``num_experts`` level-1
    expert MLPs read the flattened field embeddings ``x``. ``num_level2_experts``
    level-1 gates, softmaxes over the level-1 experts conditioned on ``x``, each
    form the input of one level-2 expert MLP. Each task's gate, a softmax over the
    level-2 experts also conditioned on ``x``, mixes them into the input of the
    task's tower. Each level-2 expert thus sees its own blend of the level-1
    experts, a second, coarser level of specialization. All gates are trained.

    Parameters
    ----------
    {embedding_dim}
    num_experts : int, default=8
        Number of level-1 experts.
    expert_units : tuple of int, default=(256, 128)
        Hidden layers of each level-1 expert MLP; the last is the expert's output size.
    num_level2_experts : int, default=4
        Number of level-2 experts, hence of level-1 gates.
    level2_expert_units : tuple of int, default=(128,)
        Hidden layers of each level-2 expert MLP; the last is the expert's output
        size, which the towers read.
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
    MMOEMultiOutput : One level of experts, one gate per task.
    PLEMultiOutput : Stacked levels with task-specific and shared experts.

    Notes
    -----
    There is no paper for the two-level variant itself: it applies the gating of
    MMoE [1]_ at two levels, every gate conditioned on the model's input. Each gate
    is a linear layer with a bias followed by a softmax, as in
    :class:`MMOEMultiOutput`.

    References
    ----------
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018.

    Examples
    --------
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu import MLMMOEMultiOutput
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = MLMMOEMultiOutput(
    ...     num_experts=2, expert_units=(16,), num_level2_experts=2, level2_expert_units=(8,),
    ...     max_epochs=1, random_state=0,
    ... )
    >>> [p.shape for p in model.fit(X[:2000], Y[:2000]).predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    """

    _parameter_constraints = {
        **BaseMultiTaskEstimator._parameter_constraints,
        "num_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": ["array-like"],
        "num_level2_experts": [Interval(Integral, 1, None, closed="left")],
        "level2_expert_units": ["array-like"],
    }
    _module_class = MLMMOEModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        num_experts=8,
        expert_units=(256, 128),
        num_level2_experts=4,
        level2_expert_units=(128,),
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
        self.num_level2_experts = num_level2_experts
        self.level2_expert_units = level2_expert_units
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
            "num_level2_experts": self.num_level2_experts,
            "level2_expert_units": validate_hidden_units(self.level2_expert_units, "level2_expert_units"),
        }
