"""BST: Behavior Sequence Transformer (Chen et al., DLP-KDD 2019)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_shared_docs
from ..models.ranking._bst import TRANSFORMER_OUTPUTS, BSTModule
from ._common import DeepClassifier
from ._din import BehaviorClassifierMixin


@fill_shared_docs
class BSTClassifier(BehaviorClassifierMixin, DeepClassifier):
    """BST: a transformer over the target item and the user's history, then an MLP.

    The target item and the history's items, newest first, each get a learned
    position vector by recency (0 for the target, ``k`` for the ``k``-th newest
    behaviour) added to their embedding; ``num_transformer_layers`` transformer
    blocks (multi-head self-attention, then a LeakyReLU feed-forward network, each
    with dropout, a residual connection and layer normalisation) encode them, with
    padded slots masked as keys [1]_. The output at the target item (by default;
    see ``transformer_output``) replaces the history field; with the other fields'
    vectors it goes through an MLP to the logit.

    Parameters
    ----------
    behavior_features : dict of str to str, default=None
        Which history column attends to which target column, e.g.
        ``{{"history": "item_id"}}``: the history is a list column of the items a
        user interacted with, oldest first, and the target a single-value column of
        the same items. Several pairs are allowed (say, item ids and categories),
        each with its own attention. Each pair is added to ``shared_vocabulary``, so
        history and target share one vocabulary and one embedding table. Required:
        a ``ValueError`` at ``fit`` names a column that is missing, a history that
        is not a list column or a target that is.
    {embedding_dim}
    hidden_units : tuple of int, default=(200, 80)
        Widths of the hidden layers of the MLP, as in the paper.
    dropout : float, default=0.2
        Dropout probability after each hidden layer of the MLP and in the
        transformer blocks (after the attention and the feed-forward network).
    batch_norm : bool, default=False
        Whether to batch-normalize each hidden layer of the MLP.
    num_transformer_layers : int, default=1
        Number of transformer blocks; the paper found one best.
    num_heads : int, default=2
        Number of attention heads; must divide ``embedding_dim``.
    transformer_output : {{"target", "mean", "concat"}}, default="target"
        What the MLP reads of the transformer's outputs: the output at the target
        item, which has attended to every behaviour (the paper's text); the mean of
        the outputs at the target and the behaviours; or all ``L + 1`` outputs
        concatenated, newest behaviour first (the paper's figure), which makes the
        MLP's input ``L + 1`` times wider.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DIENClassifier : Interest evolution with GRUs and an auxiliary loss.
    DINClassifier : Attention pooling of the history against the target item.

    References
    ----------
    .. [1] Q. Chen, H. Zhao, W. Li, P. Huang and W. Ou, "Behavior Sequence Transformer
       for E-commerce Recommendation in Alibaba", DLP-KDD 2019.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu import BSTClassifier
    >>> X = pd.DataFrame({{
    ...     "user_id": ["u1", "u2", "u1", "u3"] * 25,
    ...     "item_id": ["a", "b", "c", "a"] * 25,
    ...     "history": [["b", "c"], [], ["a"], ["c", "b", "a"]] * 25,
    ... }})
    >>> y = [1, 0, 0, 1] * 25
    >>> model = BSTClassifier(behavior_features={{"history": "item_id"}}, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = BSTModule

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "behavior_features": [dict, None],
        "num_transformer_layers": [Interval(Integral, 1, None, closed="left")],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "transformer_output": [StrOptions(set(TRANSFORMER_OUTPUTS))],
    }

    def __init__(
        self,
        *,
        behavior_features=None,
        embedding_dim=32,
        hidden_units=(200, 80),
        dropout=0.2,
        batch_norm=False,
        num_transformer_layers=1,
        num_heads=2,
        transformer_output="target",
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
        self.behavior_features = behavior_features
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.num_transformer_layers = num_transformer_layers
        self.num_heads = num_heads
        self.transformer_output = transformer_output
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
            "behavior_features": self._behavior_features(),
            "num_transformer_layers": self.num_transformer_layers,
            "num_heads": self.num_heads,
            "transformer_output": self.transformer_output,
        }
