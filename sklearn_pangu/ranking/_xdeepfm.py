"""xDeepFM (Lian et al., KDD 2018)."""

from __future__ import annotations

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.ranking._xdeepfm import XDeepFMModule
from ._common import DeepClassifier


@fill_shared_docs
class XDeepFMClassifier(DeepClassifier):
    """xDeepFM: a linear part, a Compressed Interaction Network and an MLP on shared embeddings.

    The Compressed Interaction Network (CIN) builds explicit, vector-wise feature
    interactions: layer ``k`` forms the element-wise products of its previous feature
    maps with every field vector and compresses them into ``H_k`` new maps, so layer
    ``k`` holds interactions of degree ``k + 1``. Each map is sum-pooled over the
    embedding axis. The MLP over the flattened embeddings learns implicit, bit-wise
    interactions, and a linear part the first-order effects; the three logits are
    summed [1]_. Dense features are embedded as ``x_k * v_k``.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    cin_units : tuple of int, default=(16, 16, 16)
        Number of feature maps ``H_k`` of each CIN layer. A layer costs
        ``H_k * H_{{k-1}} * n_fields * embedding_dim`` multiplications per row: the
        authors' example uses ``(100, 100, 50)``; 16 maps keep an epoch within about
        3.5 times ``DeepFMClassifier``'s on CPU.
    cin_split_half : bool, default=True
        Whether every CIN layer but the last feeds half of its maps to the next layer
        and the other half to the output, as in the authors' code; those layers then
        need an even number of maps.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Pairwise FM interactions instead of the CIN.
    AutoIntClassifier : Explicit interactions through self-attention.

    References
    ----------
    .. [1] J. Lian, X. Zhou, F. Zhang, Z. Chen, X. Xie and G. Sun, "xDeepFM: Combining
       Explicit and Implicit Feature Interactions for Recommender Systems", KDD 2018.

    Examples
    --------
    >>> from sklearn_pangu import XDeepFMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = XDeepFMClassifier(hidden_units=(32,), cin_units=(16, 8), max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = XDeepFMModule

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "cin_units": ["array-like"],
        "cin_split_half": ["boolean"],
    }

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        cin_units=(16, 16, 16),
        cin_split_half=True,
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
        self.cin_units = cin_units
        self.cin_split_half = cin_split_half
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
        units = validate_hidden_units(self.cin_units, "cin_units")
        if self.cin_split_half and any(u % 2 for u in units[:-1]):
            raise ValueError(
                "With cin_split_half=True every CIN layer but the last feeds half of its maps on, so "
                f"cin_units[:-1] must be even, got cin_units={self.cin_units!r}."
            )
        return {**super()._module_params(), "cin_units": units, "cin_split_half": self.cin_split_half}
