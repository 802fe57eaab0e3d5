"""Wide & Deep (Cheng et al., DLRS 2016)."""

from __future__ import annotations

from .._docstrings import fill_shared_docs
from ..models.ranking import WideDeepModule
from ._common import DeepClassifier


@fill_shared_docs
class WideDeepClassifier(DeepClassifier):
    """Wide & Deep: a wide linear model and an MLP over embeddings, trained jointly.

    The wide part is a first-order logit over every categorical index and dense
    feature; the deep part is an MLP over the concatenated categorical embeddings
    and the dense features. Their logits are summed [1]_.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Replaces the wide part by a factorization machine.

    References
    ----------
    .. [1] H.-T. Cheng et al., "Wide & Deep Learning for Recommender Systems", DLRS 2016.

    Examples
    --------
    >>> from sklearn_pangu import WideDeepClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = WideDeepClassifier(hidden_units=(32,), max_epochs=2, random_state=0).fit(X, y)
    >>> model.classes_.tolist()
    [0, 1]
    """

    _module_class = WideDeepModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
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
        self.device = device
        self.mixed_precision = mixed_precision
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
