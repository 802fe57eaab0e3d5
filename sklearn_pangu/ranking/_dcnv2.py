"""DCN-V2 (Wang et al., WWW 2021)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_shared_docs
from ..models.ranking._dcnv2 import STRUCTURES, DCNV2Module
from ._common import DeepClassifier


@fill_shared_docs
class DCNV2Classifier(DeepClassifier):
    """DCN-V2: full-matrix cross layers and an MLP, stacked or in parallel.

    The field vectors are concatenated into ``x0``. Each cross layer computes
    ``x_{{l+1}} = x0 * (W_l x_l + b_l) + x_l`` with a full ``d x d`` matrix ``W_l``,
    which learns a weight for every pair of coordinates instead of DCN's single
    vector. With ``low_rank=r`` each layer is instead a softmax-gated mixture of
    ``num_experts`` experts ``x0 * (U g(C g(V^T x_l)) + b_l)`` with ``d x r``
    matrices ``U, V``, far cheaper when ``d`` is large. The cross network either
    feeds the MLP (``'stacked'``), or runs beside it with the two outputs
    concatenated (``'parallel'``), or alone (``'cross_only'``) [1]_. Dense features
    are fields of the embedding (``x_k * v_k``).

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    num_cross_layers : int, default=4
        Number of cross layers.
    structure : {{'parallel', 'stacked', 'cross_only'}}, default='parallel'
        How the cross network and the MLP combine: the MLP reads the cross
        network's output (``'stacked'``), or both read ``x0`` and their outputs
        are concatenated (``'parallel'``), or there is no MLP (``'cross_only'``;
        ``hidden_units``, ``dropout`` and ``batch_norm`` are then unused).
    low_rank : int or None, default=None
        ``None`` for full-matrix cross layers; an int ``r`` for a mixture of
        rank-``r`` experts in every cross layer.
    num_experts : int, default=4
        Number of low-rank experts per cross layer; unused when ``low_rank`` is None.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DCNClassifier : The first version, one weight vector per cross layer.
    DeepFMClassifier : An FM beside the MLP.

    References
    ----------
    .. [1] R. Wang, R. Shivanna, D. Z. Cheng, S. Jain, D. Lin, L. Hong and E. H. Chi,
       "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale
       Learning to Rank Systems", Proceedings of the Web Conference (WWW) 2021.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import DCNV2Classifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = DCNV2Classifier(hidden_units=(32,), num_cross_layers=2, structure="stacked",
    ...                         max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "num_cross_layers": [Interval(Integral, 1, None, closed="left")],
        "structure": [StrOptions(set(STRUCTURES))],
        "low_rank": [Interval(Integral, 1, None, closed="left"), None],
        "num_experts": [Interval(Integral, 1, None, closed="left")],
    }
    _module_class = DCNV2Module

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        num_cross_layers=4,
        structure="parallel",
        low_rank=None,
        num_experts=4,
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
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.num_cross_layers = num_cross_layers
        self.structure = structure
        self.low_rank = low_rank
        self.num_experts = num_experts
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
            "num_cross_layers": self.num_cross_layers,
            "structure": self.structure,
            "low_rank": self.low_rank,
            "num_experts": self.num_experts,
        }
