r"""Surrogate derivatives ``S'(x)``: what a spike's gradient is taken to be, written once.

Plain arithmetic on ``x`` (a float, a NumPy array or a torch tensor), so the torch layers
(:mod:`ann_bridge.surrogate`), the fused CPU scan (:mod:`ann_bridge.scan_kernels`) and the
e-prop kernel (:mod:`snn.kernels.lsnn`, via :mod:`snn.kernels.steps`) all use these very
functions. ``x`` is the distance to threshold in units of the threshold scale.

* :func:`fast_sigmoid` (Zenke & Ganguli 2018): ``1 / (1 + k|x|)^2``.
* :func:`triangle` (Bellec et al. 2018's pseudo-derivative): ``gamma max(0, 1 - |x|)``;
  ``max(0, y)`` is written ``(y + |y|) / 2``, which is exact and works on tensors.
* :func:`arctan` (Fang et al. 2021): ``(alpha / 2) / (1 + (pi alpha x / 2)^2)``.
"""

from __future__ import annotations

import math


def fast_sigmoid(x, slope):
    denominator = 1.0 + slope * abs(x)
    return 1.0 / (denominator * denominator)


def triangle(x, gamma):
    rest = 1.0 - abs(x)
    return gamma * ((rest + abs(rest)) / 2)


def arctan(x, alpha):
    argument = math.pi * alpha * x / 2
    return (alpha / 2) / (1.0 + argument * argument)
