"""DIN: Deep Interest Network (Zhou et al., KDD 2018)."""

from __future__ import annotations

import pandas as pd
from sklearn.utils._param_validation import StrOptions

from .._base import validate_hidden_units
from .._docstrings import fill_shared_docs
from ..models.ranking._din import DINModule
from ..preprocessing import FeatureEncoder
from ._common import DeepClassifier


class BehaviorClassifierMixin:
    """``behavior_features``: its check, and its pairs added to the encoder's shared vocabulary."""

    def _behavior_features(self) -> dict:
        if not self.behavior_features:
            raise ValueError(
                "behavior_features must name at least one history column and its target column, e.g. "
                f"{{'history': 'item_id'}}; got {self.behavior_features!r}."
            )
        return {str(history): str(target) for history, target in self.behavior_features.items()}

    def _check_behavior_columns(self, X) -> None:
        """Name ``behavior_features`` in the errors about its columns, before the encoder's own checks."""
        if not isinstance(X, pd.DataFrame):
            return  # an array's columns are x0, x1, ...: the encoder's messages name them
        columns = [str(column) for column in X.columns]
        categorical = FeatureEncoder(categorical_features=self.categorical_features)._categorical_mask(X)
        for history, target in self._behavior_features().items():
            for role, name in (("history", history), ("target", target)):
                if name not in columns:
                    raise ValueError(
                        f"behavior_features names the {role} column {name!r}, which is not a column of X; "
                        f"the columns are {columns}."
                    )
            if not categorical[columns.index(target)]:
                raise ValueError(
                    f"behavior_features pairs {history!r} with the target column {target!r}, which is "
                    f"numeric: a target column holds ids, as the history's items do. Name {target!r} in "
                    "categorical_features, or give its ids as strings."
                )

    def _fit_network(self, X, *args, warm: bool, **kwargs):
        if not warm:
            self._check_behavior_columns(X)
        return super()._fit_network(X, *args, warm=warm, **kwargs)

    def _encoder_params(self) -> dict:
        params = super()._encoder_params()
        shared = dict(params.get("shared_vocabulary") or {})
        for history, target in self._behavior_features().items():
            if history not in shared:
                shared[history] = target
            elif shared[history] != target and target not in shared:
                shared[target] = history  # groups are connected components: the link is all that counts
            elif shared[history] != target:
                raise ValueError(
                    f"behavior_features pairs {history!r} with {target!r}, but shared_vocabulary pairs it "
                    f"with {shared[history]!r} and {target!r} with {shared[target]!r}: link them once."
                )
        params["shared_vocabulary"] = shared
        return params


@fill_shared_docs
class DINClassifier(BehaviorClassifierMixin, DeepClassifier):
    """DIN: the user's history pooled by its relevance to the target item, then an MLP.

    A local activation unit scores each behaviour ``e_j`` of the history against
    the target item ``v_A`` with a small MLP of ``[e_j, v_A, e_j - v_A, e_j * v_A]``;
    the user's interest is ``sum_j a(e_j, v_A) * e_j``, *not* normalised by a
    softmax, so that it keeps the intensity of the interest [1]_. Padded slots
    weigh exactly zero and a user without history gets a zero vector. The interest
    takes the history field's place among the field vectors (every other list
    field is pooled with ``sequence_pooling``), and an MLP maps them all to the
    logit.

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
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the MLP.
    batch_norm : bool, default=False
        Whether to batch-normalize each hidden layer of the MLP.
    attention_units : tuple of int, default=(64, 16)
        Widths of the hidden layers of the local activation unit.
    activation : {{'dice', 'prelu', 'relu'}}, default='dice'
        Activation of the activation unit's hidden layers: Dice (the paper's
        data-adaptive activation, its moments over the valid slots only), PReLU or
        ReLU.
    attention_softmax : bool, default=False
        Whether to normalise the attention weights with a softmax over the valid
        slots, as the authors' published code does; the paper does not.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DIENClassifier : Interest evolution with GRUs and an auxiliary loss.
    BSTClassifier : A transformer over the target item and the history.

    References
    ----------
    .. [1] G. Zhou, X. Zhu, C. Song, Y. Fan, H. Zhu, X. Ma, Y. Yan, J. Jin, H. Li and
       K. Gai, "Deep Interest Network for Click-Through Rate Prediction", KDD 2018.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_pangu import DINClassifier
    >>> X = pd.DataFrame({{
    ...     "user_id": ["u1", "u2", "u1", "u3"] * 25,
    ...     "item_id": ["a", "b", "c", "a"] * 25,
    ...     "history": [["b", "c"], [], ["a"], ["c", "b", "a"]] * 25,
    ... }})
    >>> y = [1, 0, 0, 1] * 25
    >>> model = DINClassifier(behavior_features={{"history": "item_id"}}, max_epochs=2, random_state=0)
    >>> model.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = DINModule

    _parameter_constraints = {
        **DeepClassifier._parameter_constraints,
        "behavior_features": [dict, None],
        "attention_units": ["array-like"],
        "activation": [StrOptions({"dice", "prelu", "relu"})],
        "attention_softmax": ["boolean"],
    }

    def __init__(
        self,
        *,
        behavior_features=None,
        embedding_dim=32,
        hidden_units=(200, 80),
        dropout=0.0,
        batch_norm=False,
        attention_units=(64, 16),
        activation="dice",
        attention_softmax=False,
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
        self.attention_units = attention_units
        self.activation = activation
        self.attention_softmax = attention_softmax
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
            "attention_units": validate_hidden_units(self.attention_units, name="attention_units"),
            "activation": self.activation,
            "attention_softmax": self.attention_softmax,
        }
