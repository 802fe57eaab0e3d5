"""Attentional factorization machine (Xiao et al., IJCAI 2017)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from .._base import EMBEDDING_CONSTRAINTS, BaseCTRClassifier
from .._docstrings import fill_shared_docs
from ..models.ranking._afm import AFMModule


@fill_shared_docs
class AFMClassifier(BaseCTRClassifier):
    """Attentional factorization machine: pairwise interactions weighted by an attention network.

    A factorization machine weighs every pairwise interaction alike. AFM forms the
    element-wise product ``e_i * e_j`` of every field pair, scores each with a small
    attention network ``h^T ReLU(W (e_i * e_j) + b)``, normalizes the scores with a
    softmax over the pairs, and projects the attention-weighted sum of the products
    to a number with a vector ``p``; the logit adds the first-order (linear) part [1]_.
    There is no MLP. The attention weights also tell which interactions matter.
    Dense features are embedded as ``x_k * v_k``.

    Parameters
    ----------
    {embedding_dim}
    dropout : float, default=0.5
        Dropout probability on the attention-pooled interaction vector (the paper's
        dropout on the pair-wise interaction layer).
    attention_dim : int, default=16
        Hidden size ``t`` of the attention network (the paper's attention factor).
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : The same interactions, all weighted one.
    NFMClassifier : An MLP over the sum of the pairwise products.

    References
    ----------
    .. [1] J. Xiao, H. Ye, X. He, H. Zhang, F. Wu and T.-S. Chua, "Attentional
       Factorization Machines: Learning the Weight of Feature Interactions via
       Attention Networks", IJCAI 2017.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import AFMClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = AFMClassifier(attention_dim=8, max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseCTRClassifier._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "attention_dim": [Interval(Integral, 1, None, closed="left")],
    }
    _module_class = AFMModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        dropout=0.5,
        attention_dim=16,
        embedding_l2=1e-4,
        learning_rate=1e-2,
        learning_rate_decay=0.5,
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
        self.dropout = dropout
        self.attention_dim = attention_dim
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
            "embedding_dim": self.embedding_dim,
            "attention_dim": self.attention_dim,
            "dropout": self.dropout,
            "embedding_l2": self.embedding_l2,
        }
