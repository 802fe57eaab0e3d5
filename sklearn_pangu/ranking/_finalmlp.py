"""FinalMLP (Mao et al., AAAI 2023)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.ranking._finalmlp import FinalMLPModule
from ._common import DeepClassifier


@fill_shared_docs
class FinalMLPClassifier(DeepClassifier):
    """FinalMLP: two MLP streams with feature gating, fused by multi-head bilinear pooling.

    Two plain MLPs read the same field embeddings, each through its own feature
    gate (``2 sigmoid`` of a gate MLP over a learnable context vector), so the
    streams can attend to different fields. Their last hidden layers meet in a
    bilinear fusion split into ``num_heads`` heads, whose first-order and
    second-order terms give the logit: the two-stream counterpart of the
    "explicit + implicit" models, made of MLPs only [1]_.

    Parameters
    ----------
    {embedding_dim}
    hidden_units : tuple of int, default=(400, 400, 400)
        Width of each hidden layer of stream 1's MLP.
    {dropout}
        Both streams use it.
    batch_norm : bool, default=True
        Whether to batch-normalize each hidden layer of both streams.
    stream2_units : tuple of int, default=(1000,)
        Width of each hidden layer of stream 2's MLP.
    gate_units : tuple of int, default=(800,)
        Hidden layers of each stream's gate MLP; ``()`` makes the gate linear.
    use_feature_gating : bool, default=True
        Whether each stream gates the embeddings (FinalMLP) or reads them as they
        are (the plain two-stream model, DualMLP).
    num_heads : int, default=2
        Number of heads of the bilinear fusion; it must divide the last width of
        both streams.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : An FM and an MLP over a shared embedding.

    References
    ----------
    .. [1] K. Mao, J. Zhu, L. Su, G. Cai, Y. Li and Z. Dong, "FinalMLP: An Enhanced
       Two-Stream MLP Model for CTR Prediction", AAAI 2023.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import FinalMLPClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = FinalMLPClassifier(
    ...     hidden_units=(32,), stream2_units=(16,), gate_units=(16,),
    ...     max_epochs=2, random_state=0,
    ... ).fit(X, y)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "stream2_units": ["array-like"],
        "gate_units": ["array-like"],
        "use_feature_gating": ["boolean"],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
    }
    _module_class = FinalMLPModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        stream2_units=(1000,),
        gate_units=(800,),
        use_feature_gating=True,
        num_heads=2,
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
        self.stream2_units = stream2_units
        self.gate_units = gate_units
        self.use_feature_gating = use_feature_gating
        self.num_heads = num_heads
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
        params = super()._module_params()
        stream2 = validate_hidden_units(self.stream2_units, "stream2_units")
        widths = (params["hidden_units"][-1], stream2[-1])
        if any(width % self.num_heads for width in widths):
            raise ValueError(
                f"num_heads={self.num_heads} must divide the last width of both streams, "
                f"hidden_units[-1]={widths[0]} and stream2_units[-1]={widths[1]}."
            )
        return {
            **params,
            "stream2_units": stream2,
            "gate_units": validate_hidden_units(self.gate_units, "gate_units", allow_empty=True),
            "use_feature_gating": self.use_feature_gating,
            "num_heads": self.num_heads,
        }
