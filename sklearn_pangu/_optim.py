"""Optimizers for sparse embedding gradients (``sparse_embeddings=True``)."""

from __future__ import annotations

import math
import warnings

import torch


class LazyAdam(torch.optim.Adam):
    """Adam that also takes sparse gradients, updating only the rows a batch touched.

    Parameters with dense gradients get :class:`torch.optim.Adam`'s update. A
    parameter with a sparse gradient (an ``nn.Embedding(sparse=True)`` table) gets
    the lazy update of :class:`torch.optim.SparseAdam`: the moments and weights of
    the rows in the gradient move, every other row stays as it is, and the bias
    correction uses the parameter's step count. ``weight_decay`` adds the L2 term
    to the touched rows only. ``amsgrad``, ``maximize`` and ``decoupled_weight_decay``
    are not supported for sparse gradients.

    One optimizer for both kinds keeps ``param_groups`` (the learning rate that
    early stopping decays) and ``state_dict`` in one place, as skorch expects.

    Parameters
    ----------
    params : iterable of torch.Tensor or dict
        Parameters or parameter groups, as for :class:`torch.optim.Adam`.
    **kwargs
        Keyword arguments of :class:`torch.optim.Adam` (``lr``, ``betas``, ``eps``,
        ``weight_decay``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu._optim import LazyAdam
    >>> table = torch.nn.Embedding(10, 4, sparse=True)
    >>> optimizer = LazyAdam(table.parameters(), lr=0.1)
    >>> before = table.weight.detach().clone()
    >>> table(torch.tensor([2, 5])).sum().backward()
    >>> optimizer.step()
    >>> (table.weight != before).any(dim=1).nonzero().flatten().tolist()
    [2, 5]
    """

    @torch.no_grad()
    def step(self, closure=None):
        """Take one optimization step; ``closure`` re-evaluates the loss, as in Adam."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        sparse = [
            (group, param)
            for group in self.param_groups
            for param in group["params"]
            if param.grad is not None and param.grad.is_sparse
        ]
        gradients = [param.grad for _, param in sparse]
        # Adam skips parameters without a gradient: hide the sparse ones from it.
        for _, param in sparse:
            param.grad = None
        try:
            super().step()
        finally:
            for (_, param), gradient in zip(sparse, gradients):
                param.grad = gradient
        for group, param in sparse:
            self._lazy_step(group, param)
        return loss

    def _lazy_step(self, group: dict, param: torch.Tensor) -> None:
        if group["amsgrad"] or group["maximize"] or group.get("decoupled_weight_decay", False):
            raise ValueError(
                "LazyAdam supports neither amsgrad, maximize nor decoupled_weight_decay for "
                "sparse gradients (sparse_embeddings=True)."
            )
        beta1, beta2 = group["betas"]
        state = self.state[param]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        gradient = param.grad.coalesce()
        rows, values = gradient.indices()[0], gradient.values()
        if group["weight_decay"]:
            values = values.add(param.index_select(0, rows), alpha=group["weight_decay"])
        state["step"] += 1
        step = state["step"].item()
        exp_avg = state["exp_avg"].index_select(0, rows).lerp_(values, 1 - beta1)
        exp_avg_sq = state["exp_avg_sq"].index_select(0, rows).mul_(beta2)
        exp_avg_sq.addcmul_(values, values, value=1 - beta2)
        state["exp_avg"].index_copy_(0, rows, exp_avg)
        state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        # Coalesced rows are distinct, so adding the update is assigning it.
        param.index_add_(0, rows, exp_avg.div_(exp_avg_sq.sqrt_().add_(group["eps"])), alpha=-step_size)


class QuietSparseAdagrad(torch.optim.Adagrad):
    """:class:`torch.optim.Adagrad`, without its warning about sparse invariant checks.

    On sparse gradients torch's Adagrad warns that "Memory errors (e.g. SEGFAULT)
    will occur" on a sparse tensor that violates its invariants; the gradients of an
    ``nn.Embedding`` never do, so the warning would only alarm.

    Examples
    --------
    >>> import torch
    >>> from sklearn_pangu._optim import QuietSparseAdagrad
    >>> table = torch.nn.Embedding(10, 4, sparse=True)
    >>> optimizer = QuietSparseAdagrad(table.parameters(), lr=0.1)
    >>> table(torch.tensor([2, 5])).sum().backward()
    >>> optimizer.step()
    """

    def step(self, closure=None):
        """Take one optimization step, as :meth:`torch.optim.Adagrad.step`."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
            return super().step(closure)
