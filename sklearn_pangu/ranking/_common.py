"""Parameters, constraints and module arguments shared by the ranking estimators."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._base import EMBEDDING_CONSTRAINTS, BaseCTRClassifier, validate_hidden_units

DEEP_CONSTRAINTS = {
    "hidden_units": ["array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}


class DeepClassifier(BaseCTRClassifier):
    """Base of the models with an embedding and an MLP: their parameters and module arguments.

    A subclass whose module takes exactly these parameters sets ``_module_class`` and
    inherits ``__init__``. One whose module takes more writes its own ``__init__``
    with all of its parameters, and extends ``_parameter_constraints`` and
    :meth:`_module_params`.
    """

    _parameter_constraints = {
        **BaseCTRClassifier._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        **DEEP_CONSTRAINTS,
    }

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
            "hidden_units": validate_hidden_units(self.hidden_units),
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embedding_l2": self.embedding_l2,
        }
