"""CCPM, the Convolutional Click Prediction Model (Liu et al., CIKM 2015)."""

from __future__ import annotations

from .._base import EMBEDDING_CONSTRAINTS, BaseCTRClassifier, validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.ranking._ccpm import CCPMModule


@fill_shared_docs
class CCPMClassifier(BaseCTRClassifier):
    """CCPM: convolutions and flexible p-max pooling over the field x embedding matrix.

    The field vectors of a row (categorical indices and dense features ``x_k * v_k``)
    form a matrix with one column per field. Each layer convolves every embedding row
    of it along the field axis (a wide one-dimensional convolution with one filter per
    row and pair of feature maps), keeps the ``p_i`` largest values of each row in
    their order (flexible p-max pooling, ``p_i = (1 - (i / l) ** (l - i)) * n`` for
    ``n`` fields and ``l`` layers, ``p_l = 3``) and applies ``tanh``. A logistic output
    layer reads the last feature maps [1]_. Convolutions see neighbouring fields, so
    the column order of ``X`` matters.

    Parameters
    ----------
    {embedding_dim}
    conv_kernel_widths : tuple of int, default=(6, 5, 3)
        Width (number of consecutive fields) of the filters of each convolutional
        layer.
    conv_filters : tuple of int, default=(4, 4, 4)
        Number of feature maps of each convolutional layer; one entry per entry of
        ``conv_kernel_widths``.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : Pairwise interactions of all fields, whatever their order.
    AutoIntClassifier : Self-attention between all fields.

    References
    ----------
    .. [1] Q. Liu, F. Yu, S. Wu and L. Wang, "A Convolutional Click Prediction Model",
       CIKM 2015.

    Examples
    --------
    >>> from sklearn_pangu import CCPMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = CCPMClassifier(conv_kernel_widths=(3, 3), conv_filters=(2, 2), max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = CCPMModule

    _parameter_constraints = {
        **BaseCTRClassifier._parameter_constraints,
        **EMBEDDING_CONSTRAINTS,
        "conv_kernel_widths": ["array-like"],
        "conv_filters": ["array-like"],
    }

    def __init__(
        self,
        *,
        embedding_dim=32,
        conv_kernel_widths=(6, 5, 3),
        conv_filters=(4, 4, 4),
        embedding_l2=1e-5,
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
        self.conv_kernel_widths = conv_kernel_widths
        self.conv_filters = conv_filters
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
        widths = validate_hidden_units(self.conv_kernel_widths, "conv_kernel_widths")
        filters = validate_hidden_units(self.conv_filters, "conv_filters")
        if len(widths) != len(filters):
            raise ValueError(
                "conv_kernel_widths and conv_filters need one entry per convolutional layer, got "
                f"{len(widths)} and {len(filters)} entries."
            )
        return {
            "embedding_dim": self.embedding_dim,
            "conv_kernel_widths": widths,
            "conv_filters": filters,
            "embedding_l2": self.embedding_l2,
        }
