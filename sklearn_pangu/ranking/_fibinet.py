"""FiBiNET (Huang et al., RecSys 2019)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_shared_docs
from ..models.ranking._fibinet import FiBiNetModule
from ..nn._bilinear import BILINEAR_TYPES
from ._common import DeepClassifier


@fill_shared_docs
class FiBiNetClassifier(DeepClassifier):
    """FiBiNET: SENET feature importance and bilinear feature interactions, into an MLP.

    A SENET layer learns a weight per field from all field vectors (squeeze by mean
    pooling, excite by two small fully connected layers) and re-weights the field
    vectors with it. A bilinear-interaction layer forms, for every field pair, the
    vector ``(e_i W) * e_j`` with a learned matrix ``W`` between the inner and the
    element-wise product. The bilinear interactions of the original and of the
    re-weighted field vectors are concatenated and fed to an MLP; the logit adds the
    first-order (linear) part [1]_. Dense features are embedded as ``x_k * v_k``.
    On data with a single field (one column, and no missing indicator) there is no
    pair to cross: the model is its linear part alone.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    reduction_ratio : float, default=3
        Ratio ``r`` of the SENET bottleneck: its hidden layer has
        ``max(1, n_fields // r)`` units.
    bilinear_type : {{'field_all', 'field_each', 'field_interaction'}}, default='field_all'
        Which field pairs share the bilinear matrix ``W``: all pairs share one
        (``'field_all'``, the setting of the authors' released code), each field ``i``
        has one for its pairs ``(i, j)`` (``'field_each'``), or each pair has its own
        (``'field_interaction'``).
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Inner products (an FM) next to an MLP over the field vectors.
    NFMClassifier : An MLP over the sum of the element-wise products of the pairs.

    References
    ----------
    .. [1] T. Huang, Z. Zhang and J. Zhang, "FiBiNET: Combining Feature Importance and
       Bilinear feature Interaction for Click-Through Rate Prediction", RecSys 2019.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import FiBiNetClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = FiBiNetClassifier(embedding_dim=4, hidden_units=(32,), max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "reduction_ratio": [Interval(Real, 1, None, closed="left")],
        "bilinear_type": [StrOptions(set(BILINEAR_TYPES))],
    }
    _module_class = FiBiNetModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        reduction_ratio=3,
        bilinear_type="field_all",
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
        self.reduction_ratio = reduction_ratio
        self.bilinear_type = bilinear_type
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
            "reduction_ratio": self.reduction_ratio,
            "bilinear_type": self.bilinear_type,
        }
