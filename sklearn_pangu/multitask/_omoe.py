"""OMoE: the one-gate mixture-of-experts baseline of the MMoE paper (Ma et al., KDD 2018)."""

from __future__ import annotations

from .._docstrings import fill_shared_docs
from ._mmoe import MMOEMultiOutput


@fill_shared_docs
class OMOEMultiOutput(MMOEMultiOutput):
    """OMoE: experts shared by all tasks, mixed by one input-conditioned gate for all tasks.

    The one-gate mixture-of-experts baseline of the MMoE paper [1]_: ``num_experts``
    expert MLPs read the field embeddings; a single softmax gate weighs them; every
    task's tower reads that one mixture.

    Parameters
    ----------
    {embedding_dim}
    num_experts : int, default=8
        Number of experts.
    expert_units : tuple of int, default=(256, 128)
        Hidden layers of each expert MLP; the last is the expert's output size.
    {tower_units}
    {dropout}
    {batch_norm}
    {embedding_l2}
    {task_weights}
    {training}

    Attributes
    ----------
    {multitask_attributes}

    See Also
    --------
    MMOEMultiOutput : One gate per task.
    ShareBottomMultiOutput : A single shared bottom instead of experts.

    References
    ----------
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018.

    Examples
    --------
    >>> from sklearn_pangu import OMOEMultiOutput
    >>> from sklearn_pangu.datasets import load_census_income
    >>> X, Y = load_census_income(return_X_y=True)
    >>> model = OMOEMultiOutput(num_experts=2, expert_units=(16,), max_epochs=1, random_state=0)
    >>> [p.shape for p in model.fit(X[:2000], Y[:2000]).predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    """

    def _module_params(self) -> dict:
        return {**super()._module_params(), "shared_gate": True}
