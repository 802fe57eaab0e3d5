"""AOANet (Lang et al., KDD 2021)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_shared_docs
from ..models.ranking._aoanet import AOANetModule
from ._common import DeepClassifier


@fill_shared_docs
class AOANetClassifier(DeepClassifier):
    """AOANet: a generalized interaction network beside a DNN.

    The generalized interaction network (GIN) learns the interaction operation
    itself: each layer forms, for ``num_subspaces`` output vectors, a learned
    weighted sum over pairs (field vector, previous-layer vector) of their outer
    products, reshaped by a learned matrix and projected back by a learned vector.
    Inner, element-wise and outer products are special cases; it starts as the
    element-wise product of CIN. The last GIN layer and the last hidden layer of
    a DNN over the same embeddings are concatenated into one linear logit [1]_.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    {dropout}
    {batch_norm}
    num_interaction_layers : int, default=3
        Number of generalized interaction layers.
    num_subspaces : int, default=4
        Number of vectors (subspaces) each interaction layer outputs.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : A fixed pairwise (FM) interaction beside the MLP.

    References
    ----------
    .. [1] L. Lang, Z. Zhu, X. Liu, J. Zhao, J. Xu and M. Shan, "Architecture and
       Operation Adaptive Network for Online Recommendations", KDD 2021.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import AOANetClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = AOANetClassifier(hidden_units=(32,), max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "num_interaction_layers": [Interval(Integral, 1, None, closed="left")],
        "num_subspaces": [Interval(Integral, 1, None, closed="left")],
    }
    _module_class = AOANetModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        num_interaction_layers=3,
        num_subspaces=4,
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
        self.num_interaction_layers = num_interaction_layers
        self.num_subspaces = num_subspaces
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
            "num_interaction_layers": self.num_interaction_layers,
            "num_subspaces": self.num_subspaces,
        }
