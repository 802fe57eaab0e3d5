"""Customized gate control: one extraction level of PLE (Tang et al., RecSys 2020)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._mlp import MLP


class CustomizedGateControl(nn.Module):
    """One extraction level of PLE: task-specific and shared experts, mixed by per-task gates.

    Each task ``k`` owns ``num_specific_experts`` expert MLPs; ``num_shared_experts``
    expert MLPs are shared by all tasks. Task ``k``'s gate, conditioned on task
    ``k``'s input, is a softmax over task ``k``'s experts followed by the shared
    experts, and returns their weighted sum (the CGC of Tang et al. [1]_):

    ``g_k = sum_e softmax(W_k x_k + b_k)_e S_k(x)_e``,
    ``S_k = [E_{k,1}(x_k), ..., E_{k,m_k}(x_k), E_{s,1}(x_s), ..., E_{s,m_s}(x_s)]``.

    With ``shared_gate=True`` (every PLE level but the last) a shared gate,
    conditioned on the shared input ``x_s``, also weighs **all** experts of the
    level (every task's, then the shared ones); its mixture is the shared input of
    the next level. Expert ``E_{k,i}`` reads ``x_k`` and a shared expert reads
    ``x_s``. Experts and gates are registered submodules.

    Parameters
    ----------
    input_dim : int
        Size of each input vector.
    n_tasks : int
        Number of tasks.
    num_specific_experts : int
        Experts owned by each task, ``m_k``.
    num_shared_experts : int
        Experts shared by all tasks, ``m_s``.
    expert_units : sequence of int
        Hidden layers of each expert MLP; the last one is the expert's output size.
    shared_gate : bool, default=False
        Whether to add the shared gate over all experts and return its mixture.
    dropout : float, default=0.0
        Dropout after each expert layer.
    batch_norm : bool, default=False
        Batch normalization in each expert layer.

    References
    ----------
    .. [1] H. Tang, J. Liu, M. Zhao and X. Gong, "Progressive Layered Extraction (PLE):
       A Novel Multi-Task Learning (MTL) Model for Personalized Recommendations",
       RecSys 2020.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu.nn import CustomizedGateControl
    >>> cgc = CustomizedGateControl(
    ...     6, n_tasks=2, num_specific_experts=2, num_shared_experts=1, expert_units=(8,), shared_gate=True
    ... )
    >>> cgc(torch.zeros(5, 6)).shape  # one input for all: tasks 0 and 1, then the shared mixture
    torch.Size([3, 5, 8])
    >>> cgc(torch.zeros(3, 5, 6)).shape  # one input per task, then the shared input
    torch.Size([3, 5, 8])
    """

    def __init__(
        self,
        input_dim: int,
        *,
        n_tasks: int,
        num_specific_experts: int,
        num_shared_experts: int,
        expert_units: Sequence[int],
        shared_gate: bool = False,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("num_specific_experts", num_specific_experts),
            ("num_shared_experts", num_shared_experts),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}.")

        def expert() -> MLP:
            return MLP(input_dim, expert_units, dropout=dropout, batch_norm=batch_norm)

        self.n_tasks = int(n_tasks)
        self.specific_experts = nn.ModuleList(
            nn.ModuleList(expert() for _ in range(num_specific_experts)) for _ in range(n_tasks)
        )
        self.shared_experts = nn.ModuleList(expert() for _ in range(num_shared_experts))
        self.gates = nn.ModuleList(
            nn.Linear(input_dim, num_specific_experts + num_shared_experts) for _ in range(n_tasks)
        )
        self.shared_gate = (
            nn.Linear(input_dim, n_tasks * num_specific_experts + num_shared_experts) if shared_gate else None
        )
        self.output_dim = int(expert_units[-1])

    def _split(self, inputs: torch.Tensor) -> torch.Tensor:
        """Inputs as ``(n_tasks + 1, batch, input_dim)``: each task's, then the shared one."""
        if inputs.dim() == 2:
            return inputs.expand(self.n_tasks + 1, *inputs.shape)
        if inputs.dim() != 3 or inputs.shape[0] != self.n_tasks + 1:
            raise ValueError(
                f"inputs must have shape (batch, input_dim) or ({self.n_tasks + 1}, batch, input_dim), "
                f"got {tuple(inputs.shape)}."
            )
        return inputs

    def _experts(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Task experts ``(n_tasks, batch, m_k, dim)`` (task ``k``'s read ``x_k``) and shared ones
        ``(batch, m_s, dim)`` (they read ``x_s``)."""
        specific = torch.stack(
            [
                torch.stack([expert(x) for expert in experts], dim=1)
                for experts, x in zip(self.specific_experts, inputs[: self.n_tasks], strict=True)
            ]
        )
        shared_input = inputs[self.n_tasks]
        shared = torch.stack([expert(shared_input) for expert in self.shared_experts], dim=1)
        return specific, shared

    def gate_weights(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Softmax weights of the task gates and of the shared gate.

        Parameters
        ----------
        inputs : Tensor of shape (batch, input_dim) or (n_tasks + 1, batch, input_dim)
            As for :meth:`forward`.

        Returns
        -------
        task_weights : Tensor of shape (n_tasks, batch, m_k + m_s)
            Task ``k``'s weights over its own experts, then the shared experts.
        shared_weights : Tensor of shape (batch, n_tasks * m_k + m_s) or None
            The shared gate's weights over every task's experts (task 0's first),
            then the shared experts; None without a shared gate.
        """
        inputs = self._split(inputs)
        tasks = torch.stack(
            [
                torch.softmax(gate(x), dim=-1)
                for gate, x in zip(self.gates, inputs[: self.n_tasks], strict=True)
            ]
        )
        shared = None
        if self.shared_gate is not None:
            shared = torch.softmax(self.shared_gate(inputs[self.n_tasks]), dim=-1)
        return tasks, shared

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Mix the experts for each task (and for the shared branch).

        Parameters
        ----------
        inputs : Tensor of shape (batch, input_dim) or (n_tasks + 1, batch, input_dim)
            One input read by every expert and gate (the first level), or task
            ``k``'s input in row ``k`` and the shared input in the last row.

        Returns
        -------
        outputs : Tensor of shape (n_tasks, batch, dim) or (n_tasks + 1, batch, dim)
            Task ``k``'s mixture in row ``k``; with a shared gate, the shared
            mixture in the last row.
        """
        inputs = self._split(inputs)
        specific, shared = self._experts(inputs)
        task_weights, shared_weights = self.gate_weights(inputs)
        # Task k mixes its own experts, then the shared ones: (n_tasks, batch, m_k + m_s, dim).
        selected = torch.cat([specific, shared.expand(self.n_tasks, *shared.shape)], dim=2)
        outputs = torch.einsum("tbe,tbed->tbd", task_weights, selected)
        if shared_weights is None:
            return outputs
        # The shared gate mixes every task's experts (task 0's first), then the shared ones.
        every = torch.cat([specific.transpose(0, 1).flatten(1, 2), shared], dim=1)
        shared_output = torch.einsum("be,bed->bd", shared_weights, every)
        return torch.cat([outputs, shared_output.unsqueeze(0)])
