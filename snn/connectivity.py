"""Connectivity rules: which synapses a projection has, with their weights and delays.

Each rule is data only; :mod:`snn.build.connect` turns it into CSR arrays
(rows = presynaptic neurons). Weights are in volts for :class:`~snn.synapses.Delta`
synapses and amperes for :class:`~snn.synapses.Exponential` ones; delays in seconds,
rounded to whole steps of the simulator's ``dt`` (as Brian2 does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.errors import ValidationError


def _delay(field_name: str, delay) -> float | np.ndarray:
    if validate.as_array(field_name, delay).ndim == 0:
        return validate.non_negative(field_name, delay)
    delays = validate.finite_array(field_name, delay)
    if np.any(delays < 0):
        raise ValidationError(field_name, "must be >= 0 s")
    return delays


@dataclass(frozen=True, kw_only=True, eq=False)
class AllToAll:
    """Every pre neuron to every post neuron.

    ``weights``: scalar or array of shape ``(n_pre, n_post)``; entries that are exactly
    zero make no synapse. ``delays``: scalar (s) or array of the same shape.
    """

    weights: object = 1.0
    delays: object = 0.0

    def __post_init__(self) -> None:
        weights = validate.finite_array("AllToAll.weights", self.weights)
        object.__setattr__(self, "weights", weights if weights.ndim else float(weights))
        object.__setattr__(self, "delays", _delay("AllToAll.delays", self.delays))

    def check_shape(self, field_name: str, n_pre: int, n_post: int, same: bool = False) -> None:
        for label, value in (("weights", self.weights), ("delays", self.delays)):
            if np.ndim(value) and np.shape(value) != (n_pre, n_post):
                raise ValidationError(
                    f"{field_name}.{label}",
                    f"must have shape (n_pre, n_post) = ({n_pre}, {n_post}), got {np.shape(value)}",
                )


@dataclass(frozen=True, kw_only=True, eq=False)
class Sparse:
    """Explicit synapse list: ``pre[k] -> post[k]`` with ``weights[k]`` and ``delays[k]``.

    ``weights`` and ``delays`` may be scalars shared by all synapses. Use
    :meth:`from_matrix` for a scipy.sparse matrix of shape ``(n_pre, n_post)``.
    """

    pre: object
    post: object
    weights: object = 1.0
    delays: object = 0.0

    def __post_init__(self) -> None:
        pre = validate.as_array("Sparse.pre", self.pre).ravel()
        post = validate.as_array("Sparse.post", self.post).ravel()
        if pre.shape != post.shape:
            raise ValidationError(
                "Sparse.post", f"must have the same length as pre ({pre.size}), got {post.size}"
            )
        for label, ids in (("pre", pre), ("post", post)):
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise ValidationError(f"Sparse.{label}", "must be integer neuron indices")
            if np.any(ids < 0):
                raise ValidationError(f"Sparse.{label}", "must be >= 0")
        weights = validate.finite_array("Sparse.weights", self.weights)
        delays = _delay("Sparse.delays", self.delays)
        for label, value in (("weights", weights), ("delays", delays)):
            if np.ndim(value) and np.shape(value) != pre.shape:
                raise ValidationError(f"Sparse.{label}", f"must be a scalar or have length {pre.size}")
        object.__setattr__(self, "pre", pre.astype(np.int64))
        object.__setattr__(self, "post", post.astype(np.int64))
        object.__setattr__(self, "weights", weights if weights.ndim else float(weights))
        object.__setattr__(self, "delays", delays)

    @classmethod
    def from_matrix(cls, matrix, delays=0.0) -> Sparse:
        """From a scipy.sparse matrix ``(n_pre, n_post)`` of weights (stored entries only)."""
        coo = matrix.tocoo()
        return cls(pre=coo.row, post=coo.col, weights=coo.data, delays=delays)

    def check_shape(self, field_name: str, n_pre: int, n_post: int, same: bool = False) -> None:
        if self.pre.size and self.pre.max() >= n_pre:
            raise ValidationError(f"{field_name}.pre", f"must be < n_pre = {n_pre}, got {self.pre.max()}")
        if self.post.size and self.post.max() >= n_post:
            raise ValidationError(f"{field_name}.post", f"must be < n_post = {n_post}, got {self.post.max()}")


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability ``p``.

    ``weight`` (scalar), ``delay`` (s, scalar). ``allow_autapses``: whether a neuron may
    connect to itself when pre and post are the same population.
    """

    p: float
    weight: float = 1.0
    delay: float = 0.0
    allow_autapses: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", validate.probability("FixedProbability.p", self.p))
        object.__setattr__(self, "weight", validate.finite("FixedProbability.weight", self.weight))
        object.__setattr__(self, "delay", validate.non_negative("FixedProbability.delay", self.delay))
        object.__setattr__(
            self, "allow_autapses", validate.flag("FixedProbability.allow_autapses", self.allow_autapses)
        )

    def check_shape(self, field_name: str, n_pre: int, n_post: int, same: bool = False) -> None:
        return None


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedInDegree:
    """Each post neuron receives exactly ``in_degree`` synapses from distinct pre neurons."""

    in_degree: int
    weight: float = 1.0
    delay: float = 0.0
    allow_autapses: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "in_degree", validate.count("FixedInDegree.in_degree", self.in_degree, low=0)
        )
        object.__setattr__(self, "weight", validate.finite("FixedInDegree.weight", self.weight))
        object.__setattr__(self, "delay", validate.non_negative("FixedInDegree.delay", self.delay))
        object.__setattr__(
            self, "allow_autapses", validate.flag("FixedInDegree.allow_autapses", self.allow_autapses)
        )

    def check_shape(self, field_name: str, n_pre: int, n_post: int, same: bool = False) -> None:
        available = n_pre - 1 if same and not self.allow_autapses else n_pre
        if self.in_degree > available:
            raise ValidationError(
                f"{field_name}.in_degree",
                f"must be <= {available} (distinct pre neurons available), got {self.in_degree}",
            )


Connectivity = AllToAll | Sparse | FixedProbability | FixedInDegree
CONNECTIVITIES: dict[str, type] = {
    cls.__name__: cls for cls in (AllToAll, Sparse, FixedProbability, FixedInDegree)
}
