"""DeepFM (Guo et al., IJCAI 2017)."""

from __future__ import annotations

from .._docstrings import fill_shared_docs
from ..models.ranking import DeepFMModule
from ._common import DeepClassifier


@fill_shared_docs
class DeepFMClassifier(DeepClassifier):
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
