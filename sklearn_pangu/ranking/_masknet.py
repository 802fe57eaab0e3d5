"""MaskNet (Wang et al., DLP-KDD 2021)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_shared_docs
from ..models.ranking._masknet import MASKNET_STRUCTURES, MaskNetModule
from ._common import DeepClassifier


@fill_shared_docs
class MaskNetClassifier(DeepClassifier):
    """MaskNet: MaskBlocks that multiply by instance-guided masks, serial or in parallel.

    An instance-guided mask is a two-layer network from the row's flattened field
    embeddings to a vector that multiplies, element by element, the layer-normalized
    field embeddings or a hidden layer: a multiplicative, per-row feature interaction
    that a plain MLP learns poorly. A MaskBlock is such a mask followed by a hidden
    layer with layer normalization and ReLU. SerMaskNet chains ``num_blocks``
    MaskBlocks, each masking the previous block's output, into the output layer;
    ParaMaskNet runs them side by side on the embeddings and feeds their
    concatenated outputs to an MLP [1]_. Dense features are fields of the embedding
    (``x_k * v_k``).

    Parameters
    ----------
    {embedding_dim}
    hidden_units : tuple of int, default=(400, 400, 400)
        Width of each hidden layer of the MLP after the MaskBlocks of the parallel
        variant. The serial variant has no MLP and ignores it (and ``batch_norm``).
    dropout : float, default=0.2
        Dropout probability after each MaskBlock and each hidden layer.
    {batch_norm}
    structure : {{'parallel', 'serial'}}, default='parallel'
        ParaMaskNet (blocks side by side, then the MLP) or SerMaskNet (blocks in a
        chain).
    num_blocks : int, default=3
        Number of MaskBlocks.
    block_dim : int, default=50
        Width of each MaskBlock's hidden layer.
    reduction_ratio : float, default=2.0
        Width of a mask's aggregation layer over that of its projection layer
        (the size of the vector it masks).
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DCNV2Classifier : Explicit crosses ``x0 * (W x + b)``, another multiplicative model.
    DeepFMClassifier : An FM beside an MLP.

    References
    ----------
    .. [1] Z. Wang, Q. She and J. Zhang, "MaskNet: Introducing Feature-Wise
       Multiplication to CTR Ranking Models by Instance-Guided Mask", DLP-KDD 2021.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import MaskNetClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = MaskNetClassifier(hidden_units=(32,), num_blocks=2, block_dim=16,
    ...                           max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "structure": [StrOptions(set(MASKNET_STRUCTURES))],
        "num_blocks": [Interval(Integral, 1, None, closed="left")],
        "block_dim": [Interval(Integral, 1, None, closed="left")],
        "reduction_ratio": [Interval(Real, 0, None, closed="neither")],
    }
    _module_class = MaskNetModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        structure="parallel",
        num_blocks=3,
        block_dim=50,
        reduction_ratio=2.0,
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
        self.structure = structure
        self.num_blocks = num_blocks
        self.block_dim = block_dim
        self.reduction_ratio = reduction_ratio
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
            "structure": self.structure,
            "num_blocks": self.num_blocks,
            "block_dim": self.block_dim,
            "reduction_ratio": self.reduction_ratio,
        }
