"""AITM: multi-step conversion estimator with adaptive information transfer (Xi et al., KDD 2021)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.multitask._aitm import AITMModule
from ._base import BaseMultiTaskEstimator


@fill_shared_docs
class AITMMultiOutput(BaseMultiTaskEstimator):
    """AITM: steps of a conversion funnel, each task fed what the step before it learned.

    The adaptive information transfer multi-task framework [1]_ for sequentially
    dependent tasks such as impression -> click -> purchase, in the order of ``y``'s
    columns (two or more). Each task has a tower over the shared field embeddings
    (categorical and dense fields) that gives its own representation ``q_t``. From the
    second task on, an adaptive information transfer (AIT) module maps the previous
    task's representation ``z_{{t-1}}`` through a transfer layer to ``p_{{t-1}}`` and
    fuses it with ``q_t`` by a self-attention over ``{{p_{{t-1}}, q_t}}`` (query, key and
    value projections, scaled dot product) into ``z_t``; the first task uses
    ``z_0 = q_0``. A linear output layer maps ``z_t`` to task ``t``'s logit.

    The behavioral expectation calibrator adds to the training loss
    ``calibrator_weight * sum_{{t >= 1}} mean_i max(p_{{i,t}} - p_{{i,t-1}}, 0)``: a later
    step (conversion) should not be more likely than the step it follows (click).
    Order ``y``'s columns along the funnel, each label implying the one before it.

    Parameters
    ----------
    {embedding_dim}
    calibrator_weight : float, default=0.6
        Weight of the behavioral expectation calibrator in the training loss (the
        paper's ``alpha``); 0 trains without it. The history's ``train_loss``
        includes the penalty, ``valid_loss`` does not.
    tower_units : tuple of int, default=(64,)
        Hidden layers of each task's tower; the last one is the size of the task
        representations the AIT modules exchange, so it may not be empty.
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
    ESMMMultiOutput : Two-step funnel (click, conversion) learned as pCTR x pCVR.
    MMOEMultiOutput : Gated experts for tasks without a sequential order.

    References
    ----------
    .. [1] D. Xi, Z. Chen, P. Yan, Y. Zhang, Y. Zhu, F. Zhuang and Y. Chen, "Modeling
       the Sequential Dependence among Audience Multi-step Conversions with Multi-task
       Learning in Targeted Display Advertising", KDD 2021.

    Examples
    --------
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu import AITMMultiOutput
    >>> X, Y = load_census_income(return_X_y=True)
    >>> # a funnel surrogate: "click" = never married or rich, "conversion" = rich
    >>> y = Y.assign(click=Y["never_married"] | Y["income"], conversion=Y["income"])[["click", "conversion"]]
    >>> model = AITMMultiOutput(tower_units=(16,), max_epochs=1, random_state=0)
    >>> [p.shape for p in model.fit(X[:2000], y[:2000]).predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    """

    _parameter_constraints = {
        **BaseMultiTaskEstimator._parameter_constraints,
        "calibrator_weight": [Interval(Real, 0, None, closed="left")],
    }
    _module_class = AITMModule
    _n_tasks_range = (2, None)

    def __init__(
        self,
        *,
        embedding_dim=10,
        calibrator_weight=0.6,
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
        self.calibrator_weight = calibrator_weight
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
            "tower_units": validate_hidden_units(self.tower_units, "tower_units"),
            "calibrator_weight": float(self.calibrator_weight),
        }
