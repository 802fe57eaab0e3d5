"""Neural factorization machine (He & Chua, SIGIR 2017)."""

from __future__ import annotations

from .._docstrings import fill_shared_docs
from ..models.ranking._nfm import NFMModule
from ._common import DeepClassifier


@fill_shared_docs
class NFMClassifier(DeepClassifier):
    """Neural factorization machine: an MLP over the bi-interaction pooling of the field vectors.

    The Bi-Interaction layer pools the field vectors into one vector, the sum of
    the element-wise products of all field pairs, ``sum_{{i<j}} e_i * e_j``: the
    second-order interactions of a factorization machine kept as a vector instead of
    summed to a number. An MLP on top models higher-order interactions, and the
    logit adds the first-order (linear) part [1]_. The pooled vector is batch-normalized
    and dropped out like a hidden layer, as in the paper. With no hidden layer and the
    output weights fixed to one, NFM is an FM. Dense features are embedded as
    ``x_k * v_k``.

    Parameters
    ----------
    {embedding_dim}
    {hidden_units}
    dropout : float, default=0.2
        Dropout probability on the Bi-Interaction vector and after each hidden layer.
    batch_norm : bool, default=True
        Whether to batch-normalize the Bi-Interaction vector and each hidden layer.
    {embedding_l2}
    {training}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FMClassifier : Sums the Bi-Interaction vector instead of feeding it to an MLP.
    AFMClassifier : Weights each pairwise interaction by attention instead.
    DeepFMClassifier : An FM and an MLP over the flattened field vectors, side by side.

    References
    ----------
    .. [1] X. He and T.-S. Chua, "Neural Factorization Machines for Sparse Predictive
       Analytics", SIGIR 2017.

    Examples
    --------
    >>> from sklearn_pangu.datasets import make_ctr_classification
    >>> from sklearn_pangu import NFMClassifier
    >>> X, y = make_ctr_classification(n_samples=2000, random_state=0)
    >>> model = NFMClassifier(hidden_units=(32,), max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    """

    _module_class = NFMModule
