"""Logistic regression on embedded features."""

from __future__ import annotations

from .._base import BaseCTRClassifier
from .._docstrings import fill_shared_docs
from ..models.ranking import LRModule


@fill_shared_docs
class LRClassifier(BaseCTRClassifier):
    """Logistic regression on embedded features: a bias plus one weight per category and dense feature.

    The baseline of the zoo, trained by the same loop as the deep models, so it
    takes raw DataFrames, early stopping and ``device`` like they do. It has weights,
    not embeddings, so no ``embedding_dim`` or ``embedding_l2``; its default learning
    rate is higher than the deep models' because a linear model needs more steps.

    Parameters
    ----------
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : Adds pairwise factorized interactions.

    Examples
    --------
    >>> from sklearn_pangu import LRClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = LRClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {**BaseCTRClassifier._parameter_constraints}
    _module_class = LRModule

    def __init__(
        self,
        *,
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
        return {}
