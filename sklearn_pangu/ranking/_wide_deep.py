"""Wide & Deep (Cheng et al., DLRS 2016)."""

from __future__ import annotations

from .._docstrings import fill_shared_docs
from ..models.ranking import WideDeepModule
from ._common import DeepClassifier


@fill_shared_docs
class WideDeepClassifier(DeepClassifier):
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
