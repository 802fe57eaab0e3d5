"""Factorization machine (Rendle, ICDM 2010)."""

from __future__ import annotations

from .._base import EMBEDDING_CONSTRAINTS, BaseCTRClassifier
from .._docstrings import fill_shared_docs
from ..models.ranking import FMModule


@fill_shared_docs
class FMClassifier(BaseCTRClassifier):
    """Factorization machine: bias, first-order weights and pairwise factorized interactions.

    Every field ``i`` (categorical index or dense feature) has a weight ``w_i`` and a
    vector ``v_i``; the logit is ``b + sum_i w_i x_i + sum_{{i<j}} <v_i, v_j> x_i x_j``,
    computed in time linear in the number of fields [1]_.

    Parameters
    ----------
    {embedding_dim}
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Adds a deep component on the same embeddings.

    References
    ----------
    .. [1] S. Rendle, "Factorization Machines", ICDM 2010.

    Examples
    --------
    >>> from sklearn_pangu import FMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = FMClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {**BaseCTRClassifier._parameter_constraints, **EMBEDDING_CONSTRAINTS}
    _module_class = FMModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        embedding_l2=1e-4,
        learning_rate=1e-2,
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
        return {"embedding_dim": self.embedding_dim, "embedding_l2": self.embedding_l2}
