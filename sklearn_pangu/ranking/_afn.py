"""AFN and AFN+ (Cheng et al., AAAI 2020)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.ranking._afn import AFNModule
from ._common import DeepClassifier


@fill_shared_docs
class AFNClassifier(DeepClassifier):
    """AFN: cross features of learned, arbitrary order from a logarithmic transformation layer.

    Each logarithmic neuron computes ``exp(sum_i w_i ln |e_i|)``, the element-wise
    product of the field vectors raised to learned powers ``w_i``: a cross
    feature whose order (and the fields it involves) is learned from data instead
    of being fixed at two, as in FM, or enumerated up to a maximum. An MLP on the
    neurons' outputs gives the logit [1]_. AFN+ (``use_dnn=True``, the
    default) adds a DNN over the embeddings and takes a learned weighted sum of
    the two logits.

    Parameters
    ----------
    {embedding_dim}
    hidden_units : tuple of int, default=(400, 400, 400)
        Width of each hidden layer of the MLP on the logarithmic neurons.
    {dropout}
        The DNN of AFN+ uses it too.
    batch_norm : bool, default=True
        Whether to batch-normalize each hidden layer of the MLPs. The logarithmic
        layer's own batch normalization (of its log-space inputs and its outputs)
        is always on, as in the paper.
    num_logarithmic_neurons : int, default=400
        Number of logarithmic neurons (learned cross features).
    use_dnn : bool, default=True
        Whether to add a DNN over the flattened embeddings (AFN+, the paper's
        ensemble variant). Without it the model cannot use the sign of a dense
        feature: the logarithmic layer reads ``|x_k v_k|``.
    dnn_units : tuple of int, default=(400, 400, 400)
        Width of each hidden layer of the DNN of AFN+; unused when
        ``use_dnn=False``.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : Pairwise interactions only.
    DeepFMClassifier : An FM and an MLP over a shared embedding.

    References
    ----------
    .. [1] W. Cheng, Y. Shen and L. Huang, "Adaptive Factorization Network: Learning
       Adaptive-Order Feature Interactions", AAAI 2020.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import AFNClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = AFNClassifier(
    ...     hidden_units=(32,), num_logarithmic_neurons=16, dnn_units=(32,), max_epochs=2, random_state=0
    ... ).fit(X, y)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "num_logarithmic_neurons": [Interval(Integral, 1, None, closed="left")],
        "use_dnn": ["boolean"],
        "dnn_units": ["array-like"],
    }
    _module_class = AFNModule

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        num_logarithmic_neurons=400,
        use_dnn=True,
        dnn_units=(400, 400, 400),
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
        self.num_logarithmic_neurons = num_logarithmic_neurons
        self.use_dnn = use_dnn
        self.dnn_units = dnn_units
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
            "num_logarithmic_neurons": self.num_logarithmic_neurons,
            "use_dnn": self.use_dnn,
            "dnn_units": validate_hidden_units(self.dnn_units, "dnn_units"),
        }
