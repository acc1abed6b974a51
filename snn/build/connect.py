"""Turn a connectivity rule into CSR arrays: indptr (int64), post indices (int32),
weights and integer-step delays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.connectivity import AllToAll, FixedInDegree, FixedProbability, Sparse
from snn.errors import ValidationError
from snn.kernels import connect as kernels


@dataclass
class CSRBlock:
    """One projection's synapses, rows = local pre index.

    ``weights`` has one entry per synapse; ``delays`` (steps, int) too, or is a scalar
    when every synapse has the same delay.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    delays: np.ndarray | int

    @property
    def n_synapses(self) -> int:
        return int(self.indices.size)

    def pre(self) -> np.ndarray:
        """The local pre index of every synapse (int64, in storage order)."""
        return np.repeat(np.arange(self.indptr.size - 1, dtype=np.int64), np.diff(self.indptr))

    def dense(self, n_post: int) -> np.ndarray:
        """Weights as an ``(n_pre, n_post)`` matrix (repeated pairs summed, absent ones 0)."""
        matrix = np.zeros((self.indptr.size - 1, n_post))
        np.add.at(matrix, (self.pre(), self.indices), self.weights)
        return matrix


def delay_steps(field_name: str, delays, dt: float):
    """Delays in seconds -> whole steps, rounded to nearest (as Brian2 rounds to dt)."""
    steps = np.rint(np.asarray(delays, dtype=np.float64) / dt)
    if np.any(steps > np.iinfo(np.uint16).max):
        raise ValidationError(field_name, f"must be <= {np.iinfo(np.uint16).max} steps of dt={dt} s")
    if steps.ndim == 0:
        return int(steps)
    return steps.astype(np.uint16)


def build_block(
    rule,
    n_pre: int,
    n_post: int,
    same_population: bool,
    dt: float,
    rng: np.random.Generator,
    dtype,
    field_name: str,
) -> CSRBlock:
    """The CSR arrays of one projection (``dtype`` for weights)."""
    if isinstance(rule, FixedProbability):
        indptr, indices = kernels.fixed_probability(
            rng, n_pre, n_post, float(rule.p), same_population and not rule.allow_autapses
        )
        weights = np.full(indices.size, rule.weight, dtype=dtype)
        return CSRBlock(indptr, indices, weights, delay_steps(f"{field_name}.delay", rule.delay, dt))
    if isinstance(rule, FixedInDegree):
        indptr, indices = kernels.fixed_in_degree(
            rng, n_pre, n_post, int(rule.in_degree), same_population and not rule.allow_autapses
        )
        weights = np.full(indices.size, rule.weight, dtype=dtype)
        return CSRBlock(indptr, indices, weights, delay_steps(f"{field_name}.delay", rule.delay, dt))
    if isinstance(rule, AllToAll):
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64), (n_pre, n_post))
        pre, post = np.nonzero(weights)
        delays = rule.delays if np.ndim(rule.delays) == 0 else np.asarray(rule.delays)[pre, post]
        return _from_coo(n_pre, pre, post, weights[pre, post], delays, dt, dtype, field_name)
    if isinstance(rule, Sparse):
        weights = np.broadcast_to(np.asarray(rule.weights, dtype=np.float64), rule.pre.shape)
        return _from_coo(n_pre, rule.pre, rule.post, weights, rule.delays, dt, dtype, field_name)
    raise ValidationError(field_name, f"unknown connectivity {type(rule).__name__}")


def _from_coo(n_pre, pre, post, weights, delays, dt, dtype, field_name) -> CSRBlock:
    order = np.lexsort((post, pre))
    indptr, indices = kernels.coo_to_csr(n_pre, pre.astype(np.int64), post.astype(np.int32), order)
    steps = delay_steps(f"{field_name}.delays", delays, dt)
    if np.ndim(steps):
        steps = np.asarray(steps)[order]
    return CSRBlock(indptr, indices, np.asarray(weights, dtype=dtype)[order], steps)
