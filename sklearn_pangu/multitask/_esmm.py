"""ESMM: entire space multi-task estimator of CTR and post-click CVR (Ma et al., SIGIR 2018)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.utils import to_tensor

from .._base import binary_proba
from .._docstrings import fill_shared_docs
from ..models.multitask._esmm import ESMMModule
from ._base import BaseMultiTaskEstimator


class _TowerLogits:
    """Stands in for the skorch net in :func:`predict_outputs`: returns ``module_.tower_logits``."""

    def __init__(self, net) -> None:
        self.net = net

    @property
    def module_(self):
        return self.net.module_

    def evaluation_step(self, batch, training: bool = False) -> torch.Tensor:
        X, _ = batch
        module = self.net.module_
        module.eval()
        with torch.no_grad(), self.net.forward_precision():
            return module.tower_logits(**to_tensor(X, device=self.net.device)).float()


@fill_shared_docs
class ESMMMultiOutput(BaseMultiTaskEstimator):
    """ESMM: post-click conversion rate learned over every impression through pCTCVR = pCTR x pCVR.

    The entire space multi-task model [1]_. A CTR network and a CVR network read the
    same field embeddings (the categorical and the dense fields). The CVR network's
    output is the post-click conversion rate ``pCVR = p(conversion | click, x)``, but
    it gets no loss of its own: the model is trained on **all impressions** with two
    losses, the cross-entropy of ``pCTR = p(click | x)`` against the click label and
    that of ``pCTCVR = pCTR x pCVR = p(click and conversion | x)`` against the
    click-and-conversion label. Training pCVR over the entire impression space, not
    only on clicked rows, avoids the sample selection bias of a CVR model trained on
    clicks, and the shared embeddings let the sparse conversion task borrow from the
    abundant clicks.

    **Labels.** ``y`` has exactly two columns, in this order: the click label and the
    click-and-conversion label (positive when the impression was clicked *and* then
    converted; a conversion without a click is impossible and ``fit`` rejects it).
    ``predict_proba`` returns ``[pCTR, pCTCVR]``, aligned with these columns, so the
    tasks' ROC AUCs (in ``history_`` and for a scorer) are CTR and CTCVR AUCs over the
    impressions. :meth:`predict_cvr_proba` returns pCVR, to be compared with the
    conversion label on the clicked rows only.

    Parameters
    ----------
    {embedding_dim}
    tower_units : tuple of int, default=(64,)
        Hidden layers of the CTR network and of the CVR network (each reads the field
        embeddings and ends in a logit; may be empty for a linear logit).
    {dropout}
    {batch_norm}
    {embedding_l2}
    task_weights : array-like of shape (2,) or None, default=None
        Weights of the CTR loss and of the CTCVR loss in the training loss; None
        weighs both 1, as in the paper. Early stopping follows the mean validation
        ROC AUC of pCTR and pCTCVR, whatever the weights.
    {training}

    Attributes
    ----------
    {multitask_attributes}

    See Also
    --------
    AITMMultiOutput : Sequential conversion steps linked by attention and a calibrator.
    ShareBottomMultiOutput : Independent heads over a shared bottom, no funnel structure.

    Notes
    -----
    ``forward`` of the module returns the pCTCVR logit, computed from the two tower
    logits in log space (:func:`~sklearn_pangu.models.multitask._esmm.product_logit`),
    so the shared cross-entropy on logits applies to it unchanged and stays finite for
    extreme logits.

    References
    ----------
    .. [1] X. Ma, L. Zhao, G. Huang, Z. Wang, Z. Hu, X. Zhu and K. Gai, "Entire Space
       Multi-Task Model: An Effective Approach for Estimating Post-Click Conversion
       Rate", SIGIR 2018.

    Examples
    --------
    >>> from sklearn_pangu.datasets import load_census_income
    >>> from sklearn_pangu import ESMMMultiOutput
    >>> X, Y = load_census_income(return_X_y=True)
    >>> # a funnel surrogate: "click" = never married or rich, "conversion" = rich
    >>> y = Y.assign(click=Y["never_married"] | Y["income"], conversion=Y["income"])[["click", "conversion"]]
    >>> model = ESMMMultiOutput(tower_units=(16,), max_epochs=1, random_state=0).fit(X[:2000], y[:2000])
    >>> model.task_names_
    ['click', 'conversion']
    >>> model.predict_cvr_proba(X[:5]).shape
    (5, 2)
    """

    _parameter_constraints = {**BaseMultiTaskEstimator._parameter_constraints}
    _module_class = ESMMModule
    _n_tasks_range = (2, 2)

    def __init__(
        self,
        *,
        embedding_dim=10,
        tower_units=(64,),
        dropout=0.2,
        batch_norm=True,
        embedding_l2=0.01,
        task_weights=None,
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
        self.tower_units = tower_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.embedding_l2 = embedding_l2
        self.task_weights = task_weights
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

    def _fit_network(
        self,
        X,
        target: np.ndarray,
        sample_weight,
        stratify: np.ndarray | None,
        warm: bool,
        partial: bool = False,
    ):
        converted_unclicked = int(np.count_nonzero((target[:, 1] > 0) & (target[:, 0] == 0)))
        if converted_unclicked:
            (click, conversion), (click_labels, conversion_labels) = self.task_names_, self.classes_
            raise ValueError(
                f"{type(self).__name__} reads y's second column ({conversion!r}) as click-and-conversion, "
                f"which implies a click, but {converted_unclicked} row(s) have it positive (label "
                f"{conversion_labels[1]!r}) while the click column {click!r} is negative (label "
                f"{click_labels[0]!r}). Each column's positive label is the second of its two labels in "
                f"sorted order (classes_[t][1]): {click_labels[1]!r} for {click!r}, "
                f"{conversion_labels[1]!r} for {conversion!r}. Give the columns bool or 0/1 labels, so "
                "that True or 1 is positive, and set the conversion label of unclicked rows to the "
                "negative one."
            )
        return super()._fit_network(X, target, sample_weight, stratify, warm, partial)

    def predict_cvr_proba(self, X) -> np.ndarray:
        """Post-click conversion probability pCVR = p(conversion | click, x) of each row.

        The CVR network's output, defined for every impression, clicked or not; it
        equals ``pCTCVR / pCTR`` of :meth:`predict_proba`. Evaluate it against the
        conversion label on the clicked rows only.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw features with the columns seen at fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Probability, given a click, of ``classes_[1][0]`` (no conversion) and
            ``classes_[1][1]`` (conversion), like one array of :meth:`predict_proba`.
        """
        check_is_fitted(self)
        return binary_proba(self._raw_outputs(X, net=_TowerLogits(self.net_))[:, 1])
