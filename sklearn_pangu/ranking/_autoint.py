"""AutoInt and AutoInt+ (Song et al., CIKM 2019)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from .._docstrings import fill_shared_docs
from ..models.ranking._autoint import AutoIntModule
from ._common import DeepClassifier


@fill_shared_docs
class AutoIntClassifier(DeepClassifier):
    """AutoInt: stacked multi-head self-attention over the field embeddings.

    Every field (categorical index or dense feature ``x_k * v_k``) is embedded; each
    interacting layer lets every field vector attend to all the others in
    ``num_heads`` subspaces and adds a projection of itself (residual connection);
    stacked layers combine the fields into higher-order interactions, explicitly and
    with attention weights that can be read. The output layer is a logistic regression on the
    concatenated field vectors of the last layer [1]_. With ``use_dnn=True`` the model
    is AutoInt+: an MLP over the same embeddings is trained jointly and its logit added.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units} Used only when ``use_dnn=True``.
    {dropout} Used only when ``use_dnn=True``.
    {batch_norm} Used only when ``use_dnn=True``.
    num_attention_layers : int, default=3
        Number of stacked interacting (self-attention) layers.
    num_heads : int, default=2
        Number of attention heads of each interacting layer.
    attention_dim : int, default=16
        Size ``d'`` of each head's query, key and value vectors; a layer outputs
        ``num_heads * attention_dim`` features per field. The authors used 32 on
        Criteo; 16 keeps an epoch within about 2 times ``DeepFMClassifier``'s on CPU.
    use_residual : bool, default=True
        Whether each interacting layer adds the projected input ``W_Res e_m`` before
        its ReLU.
    use_dnn : bool, default=True
        Whether to add the deep component of AutoInt+ (an MLP over the flattened
        field embeddings with ``hidden_units``, ``dropout`` and ``batch_norm``).
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Pairwise FM interactions plus an MLP.
    XDeepFMClassifier : Explicit vector-wise interactions with a Compressed Interaction Network.

    References
    ----------
    .. [1] W. Song, C. Shi, Z. Xiao, Z. Duan, Y. Xu, M. Zhang and J. Tang, "AutoInt:
       Automatic Feature Interaction Learning via Self-Attentive Neural Networks",
       CIKM 2019.

    Examples
    --------
    >>> from sklearn_pangu import AutoIntClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = AutoIntClassifier(num_attention_layers=1, attention_dim=8, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = AutoIntModule

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "num_attention_layers": [Interval(Integral, 1, None, closed="left")],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "attention_dim": [Interval(Integral, 1, None, closed="left")],
        "use_residual": ["boolean"],
        "use_dnn": ["boolean"],
    }

    def __init__(
        self,
        *,
        embedding_dim=32,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        num_attention_layers=3,
        num_heads=2,
        attention_dim=16,
        use_residual=True,
        use_dnn=True,
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
        self.num_attention_layers = num_attention_layers
        self.num_heads = num_heads
        self.attention_dim = attention_dim
        self.use_residual = use_residual
        self.use_dnn = use_dnn
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
            "num_attention_layers": self.num_attention_layers,
            "num_heads": self.num_heads,
            "attention_dim": self.attention_dim,
            "use_residual": self.use_residual,
            "use_dnn": self.use_dnn,
        }
