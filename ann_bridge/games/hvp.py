"""Mixed Hessian-vector products by double backprop, and the conjugate-gradient solve CGD needs.

For a game f(x, y), ``D_yx f`` (shape ``(|y|, |x|)``) is the block of second derivatives
``d^2 f / dy dx``; ``D_xy f = (D_yx f)^T``. Neither is formed: ``D_yx f v`` is the gradient
with respect to y of ``<grad_x f, v>``, one extra backward pass through the graph of
``grad_x f`` (built with ``create_graph=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The tensors' entries as one vector (parameter order)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def split_like(vector: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """``vector`` cut into pieces shaped like ``params`` (the inverse of :func:`flat`)."""
    pieces, at = [], 0
    for p in params:
        pieces.append(vector[at : at + p.numel()].view_as(p))
        at += p.numel()
    return pieces


def gradient(loss: torch.Tensor, params: Sequence[torch.Tensor], create_graph: bool = False) -> torch.Tensor:
    """``d loss / d params`` as one vector (zeros for parameters the loss does not use)."""
    grads = torch.autograd.grad(loss, params, create_graph=create_graph, retain_graph=True, allow_unused=True)
    return flat([torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)])


def mixed_product(
    grad_a: torch.Tensor, params_b: Sequence[torch.Tensor], vector: torch.Tensor
) -> torch.Tensor:
    """``D_ba f v``: the gradient over ``params_b`` of ``<grad_a, v>``, where ``grad_a`` is
    ``d f / d a`` built with ``create_graph=True`` and ``v`` lives in a's space."""
    if not grad_a.requires_grad:  # f is linear in a and a is coupled to nothing: D_ba f = 0
        return torch.zeros(sum(p.numel() for p in params_b), dtype=vector.dtype, device=vector.device)
    grads = torch.autograd.grad(grad_a, params_b, grad_outputs=vector, retain_graph=True, allow_unused=True)
    return flat([torch.zeros_like(p) if g is None else g for g, p in zip(grads, params_b, strict=True)])


def conjugate_gradient(
    apply: Callable[[torch.Tensor], torch.Tensor],
    rhs: torch.Tensor,
    start: torch.Tensor | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[torch.Tensor, int, float]:
    """Solve ``apply(u) = rhs`` for a symmetric positive definite operator from ``start``
    (warm start; zeros if None) until ``||residual|| <= tol ||rhs||`` or ``max_iter``
    iterations; return (u, iterations, final relative residual)."""
    if not torch.any(rhs != 0):  # the solution of A u = 0
        return torch.zeros_like(rhs), 0, 0.0
    u = torch.zeros_like(rhs) if start is None else start.clone()
    residual = rhs - apply(u) if start is not None else rhs.clone()
    target = tol * torch.linalg.vector_norm(rhs)
    direction = residual.clone()
    rr = residual @ residual
    iterations = 0
    while iterations < max_iter and torch.sqrt(rr) > target:
        applied = apply(direction)
        curvature = direction @ applied
        if not curvature > 0:  # underflow near an exact solution (the operator is positive definite)
            break
        step = rr / curvature
        u = u + step * direction
        residual = residual - step * applied
        rr_next = residual @ residual
        direction = residual + (rr_next / rr) * direction
        rr = rr_next
        iterations += 1
    norm = torch.linalg.vector_norm(rhs)
    relative = float(torch.sqrt(rr) / norm) if norm > 0 else 0.0
    return u, iterations, relative
