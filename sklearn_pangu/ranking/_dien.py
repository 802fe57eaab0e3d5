"""DIEN: Deep Interest Evolution Network (Zhou et al., AAAI 2019)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_shared_docs
from ..models.ranking._dien import DIENModule
from ._common import DeepClassifier
from ._din import BehaviorClassifierMixin


@fill_shared_docs
class DIENClassifier(BehaviorClassifierMixin, DeepClassifier):
    """DIEN: the user's interest extracted by a GRU and evolved toward the target item, then an MLP.

    An interest extractor (a GRU) reads the history's item vectors, oldest first;
    an auxiliary loss makes each state ``h_t`` predict the next behaviour against a
    negative item drawn uniformly from the known items (``auxiliary_loss_weight``
    times its mean over the valid pairs of consecutive behaviours is added to the
    training loss, and to ``train_loss`` only). Attention ``a_t = softmax_t(h_t W
    e_target)`` over the valid slots drives an AUGRU (a GRU whose update gate is
    scaled by ``a_t``), the interest evolving layer, whose last state takes the
    history field's place among the field vectors; an MLP maps them all to the
    logit [1]_. A user without history gets a zero vector.

    Parameters
    ----------
    behavior_features : dict of str to str, default=None
        Which history column attends to which target column, e.g.
        ``{{"history": "item_id"}}``: the history is a list column of the items a
        user interacted with, oldest first, and the target a single-value column of
        the same items. Several pairs are allowed (say, item ids and categories),
        each with its own attention. Each pair is added to ``shared_vocabulary``, so
        history and target share one vocabulary and one embedding table. Required:
        a ``ValueError`` at ``fit`` names a column that is missing, a history that
        is not a list column or a target that is.
    {embedding_dim}
    hidden_units : tuple of int, default=(200, 80)
        Widths of the hidden layers of the MLP, as in the paper.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the MLP.
    batch_norm : bool, default=False
        Whether to batch-normalize each hidden layer of the MLP.
    auxiliary_loss_weight : float, default=1.0
        Weight ``alpha`` of the auxiliary loss; 0 turns it off (the paper's
        "BaseModel + GRU + AUGRU").
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DINClassifier : Attention pooling of the history against the target item.
    BSTClassifier : A transformer over the target item and the history.

    References
    ----------
    .. [1] G. Zhou, N. Mou, Y. Fan, Q. Pi, W. Bian, C. Zhou, X. Zhu and K. Gai, "Deep
       Interest Evolution Network for Click-Through Rate Prediction", AAAI 2019.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu import DIENClassifier
    >>> X = pd.DataFrame({{
    ...     "user_id": ["u1", "u2", "u1", "u3"] * 25,
    ...     "item_id": ["a", "b", "c", "a"] * 25,
    ...     "history": [["b", "c"], [], ["a"], ["c", "b", "a"]] * 25,
    ... }})
    >>> y = [1, 0, 0, 1] * 25
    >>> model = DIENClassifier(behavior_features={{"history": "item_id"}}, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = DIENModule

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "behavior_features": [dict, None],
        "auxiliary_loss_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        behavior_features=None,
        embedding_dim=32,
        hidden_units=(200, 80),
        dropout=0.0,
        batch_norm=False,
        auxiliary_loss_weight=1.0,
        embedding_l2=0.01,
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
        self.behavior_features = behavior_features
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.auxiliary_loss_weight = auxiliary_loss_weight
        self.embedding_l2 = embedding_l2
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
            "behavior_features": self._behavior_features(),
            "auxiliary_loss_weight": float(self.auxiliary_loss_weight),
        }
