r"""Surrogate gradients: a Heaviside step forward, a smooth stand-in's derivative backward.

Each surrogate is the pair (forward ``H(x) = 1[x > 0]``, backward ``S'(x)``) where
``S`` is a smooth stand-in for ``H`` (up to a constant); ``x`` is the distance to threshold
in units of the threshold scale.

* ``fast_sigmoid`` (Zenke & Ganguli 2018; snnTorch's default): ``S(x) = x / (1 + k|x|)``,
  ``S'(x) = 1 / (1 + k|x|)^2``, slope ``k = 25``.
* ``triangle`` (Bellec et al. 2018's pseudo-derivative): ``S'(x) = gamma max(0, 1 - |x|)``,
  ``gamma = 0.3``.
* ``arctan`` (Fang et al. 2021; snnTorch ``atan``): ``S(x) = arctan(pi alpha x / 2) / pi``,
  ``S'(x) = (alpha / 2) / (1 + (pi alpha x / 2)^2)``, ``alpha = 2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from snn.errors import ValidationError
from snn.learning import surrogates

# S'(x, scale): the derivative each surrogate's backward pass returns (snn.learning.surrogates,
# the same functions the Numba kernels compile)
DERIVATIVES: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "fast_sigmoid": surrogates.fast_sigmoid,
    "triangle": surrogates.triangle,
    "arctan": surrogates.arctan,
}
DEFAULT_SCALES = {"fast_sigmoid": 25.0, "triangle": 0.3, "arctan": 2.0}
SURROGATES = tuple(DERIVATIVES)


class _Spike(torch.autograd.Function):
    """Heaviside forward (``x > 0``); ``derivative(x, scale)`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, derivative, scale: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.derivative = derivative
        ctx.scale = scale
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad * ctx.derivative(x, ctx.scale), None, None


# the smooth stand-ins whose derivatives the backward passes return (for gradient checks)
STAND_INS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "fast_sigmoid": lambda x, k: x / (1.0 + k * x.abs()),
    "triangle": lambda x, g: g * torch.where(x.abs() < 1, x - x * x.abs() / 2, torch.sign(x) / 2),
    "arctan": lambda x, a: torch.atan(math.pi * a * x / 2) / math.pi,
}


def surrogate(
    name: str = "fast_sigmoid", scale: float | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The spike function ``x -> H(x)`` with surrogate ``name``; ``scale`` overrides its
    slope / gamma / alpha."""
    if name not in DERIVATIVES:
        raise ValidationError("surrogate", f"must be one of {sorted(SURROGATES)}, got {name!r}")
    value = DEFAULT_SCALES[name] if scale is None else float(scale)
    if not value > 0:
        raise ValidationError("surrogate.scale", f"must be > 0, got {scale}")
    derivative = DERIVATIVES[name]
    spike_fn = lambda x: _Spike.apply(x, derivative, value)  # noqa: E731
    spike_fn.derivative, spike_fn.scale = derivative, value  # for fused scans (ann_bridge.scan)
    return spike_fn
