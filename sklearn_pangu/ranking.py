"""Ranking (CTR) classifiers: one thin class per model of the zoo."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ._base import BaseCTRClassifier, validate_hidden_units
from ._docstrings import fill_shared_docs
from .models.ranking import DeepFMModule, FMModule, LogisticRegressionModule, WideDeepModule

__all__ = ["DeepFMClassifier", "FMClassifier", "LRClassifier", "WideDeepClassifier"]

_EMBEDDING = {
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "embedding_l2": [Interval(Real, 0, None, closed="left")],
}
_DEEP = {
    "hidden_units": ["array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}


@fill_shared_docs
class LRClassifier(BaseCTRClassifier):
    """Logistic regression on embedded features: a bias plus one weight per category and dense feature.

    The baseline of the zoo, trained by the same loop as the deep models, so it
    takes raw DataFrames, early stopping and ``device`` like they do. It has weights,
    not embeddings, so no ``embedding_dim`` or ``embedding_l2``; its default learning
    rate is higher than the deep models' because a linear model needs more steps.

    Parameters
    ----------
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : Adds pairwise factorized interactions.

    Examples
    --------
    >>> from sklearn_pangu import LRClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = LRClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {**BaseCTRClassifier._parameter_constraints}
    _module_class = LogisticRegressionModule

    def __init__(
        self,
        *,
        learning_rate=1e-2,
        optimizer="adam",
        batch_size=1024,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        categorical_features="from_dtype",
        device="cpu",
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _module_params(self) -> dict:
        return {}


@fill_shared_docs
class FMClassifier(BaseCTRClassifier):
    """Factorization machine: bias, first-order weights and pairwise factorized interactions.

    Every field ``i`` (categorical index or dense feature) has a weight ``w_i`` and a
    vector ``v_i``; the logit is ``b + sum_i w_i x_i + sum_{{i<j}} <v_i, v_j> x_i x_j``,
    computed in time linear in the number of fields [1]_.

    Parameters
    ----------
    {embedding_dim}
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepFMClassifier : Adds a deep component on the same embeddings.

    References
    ----------
    .. [1] S. Rendle, "Factorization Machines", ICDM 2010.

    Examples
    --------
    >>> from sklearn_pangu import FMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = FMClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {**BaseCTRClassifier._parameter_constraints, **_EMBEDDING}
    _module_class = FMModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        embedding_l2=0.01,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=1024,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        categorical_features="from_dtype",
        device="cpu",
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.embedding_dim = embedding_dim
        self.embedding_l2 = embedding_l2
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _module_params(self) -> dict:
        return {"embedding_dim": self.embedding_dim, "embedding_l2": self.embedding_l2}


class _DeepClassifier(BaseCTRClassifier):
    """Shared hyper-parameter handling of the models with an MLP."""

    _parameter_constraints = {**BaseCTRClassifier._parameter_constraints, **_EMBEDDING, **_DEEP}

    def _module_params(self) -> dict:
        return {
            "embedding_dim": self.embedding_dim,
            "hidden_units": validate_hidden_units(self.hidden_units),
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embedding_l2": self.embedding_l2,
        }


@fill_shared_docs
class WideDeepClassifier(_DeepClassifier):
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
        embedding_dim=10,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        embedding_l2=0.01,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=1024,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        categorical_features="from_dtype",
        device="cpu",
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
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks


@fill_shared_docs
class DeepFMClassifier(_DeepClassifier):
    """DeepFM: a factorization machine and an MLP sharing one field embedding.

    The FM component (bias, first-order weights, pairwise interactions) models
    low-order interactions; the deep component, an MLP over the flattened field
    embeddings, models high-order ones. Both read the same embeddings and their
    logits are summed [1]_. Dense features are embedded as ``x_k * v_k``.

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
    FMClassifier : The FM component alone.
    WideDeepClassifier : A linear wide part instead of the FM.

    References
    ----------
    .. [1] H. Guo, R. Tang, Y. Ye, Z. Li and X. He, "DeepFM: A Factorization-Machine
       based Neural Network for CTR Prediction", IJCAI 2017.

    Examples
    --------
    >>> from sklearn_pangu import DeepFMClassifier
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = DeepFMClassifier(hidden_units=(32,), max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    _module_class = DeepFMModule

    def __init__(
        self,
        *,
        embedding_dim=10,
        hidden_units=(400, 400, 400),
        dropout=0.2,
        batch_norm=True,
        embedding_l2=0.01,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=1024,
        max_epochs=100,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=2,
        categorical_features="from_dtype",
        device="cpu",
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
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
