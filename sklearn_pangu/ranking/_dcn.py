"""Deep & Cross Network (Wang et al., ADKDD 2017)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_shared_docs
from ..models.ranking._dcn import DCNModule
from ._common import DeepClassifier


@fill_shared_docs
class DCNClassifier(DeepClassifier):
    """Deep & Cross Network: a cross network beside an MLP, on the stacked field embeddings.

    The field vectors are concatenated into ``x0``. The cross network applies
    ``x_{{l+1}} = x0 (x_l . w_l) + b_l + x_l`` ``num_cross_layers`` times, so that
    layer ``l`` holds explicit feature crosses up to degree ``l + 1`` at the cost
    of two vectors per layer; the deep network, an MLP over ``x0``, runs in
    parallel. Their outputs are concatenated and mapped to the logit by one linear
    layer [1]_. Dense features are fields of the embedding (``x_k * v_k``).

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    num_cross_layers : int, default=3
        Number of cross layers.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DCNV2Classifier : Full-matrix cross layers, stacked or parallel.
    DeepFMClassifier : An FM instead of the cross network.

    References
    ----------
    .. [1] R. Wang, B. Fu, G. Fu and M. Wang, "Deep & Cross Network for Ad Click
       Predictions", Proceedings of the ADKDD'17, 2017.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import DCNClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = DCNClassifier(hidden_units=(32,), num_cross_layers=2, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "num_cross_layers": [Interval(Integral, 1, None, closed="left")],
    }
    _module_class = DCNModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        num_cross_layers=3,
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
        return {**super()._module_params(), "num_cross_layers": self.num_cross_layers}
