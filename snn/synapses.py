"""Synapse types: how a presynaptic spike enters the postsynaptic neuron.

* :class:`Delta` — instantaneous: the weight (V) jumps the membrane potential.
* :class:`Exponential` — current-based: the weight (A) jumps a synaptic current
  ``I_syn`` that decays as ``tau_syn dI_syn/dt = -I_syn`` and drives the membrane.

A spike emitted in step ``k`` with a delay of ``d`` steps reaches its target at the
end of step ``k + d`` and so acts from step ``k + d + 1`` on (the same order as
Brian2's schedule: integrate, threshold, propagate, reset).
"""

from __future__ import annotations

from dataclasses import dataclass

from snn import validate


@dataclass(frozen=True, kw_only=True)
class Delta:
    """Instantaneous synapse: weight in volts added to ``v``."""

    def to_dict(self) -> dict:
        return {"type": "Delta"}


@dataclass(frozen=True, kw_only=True)
class Exponential:
    """Exponentially decaying current synapse, ``tau_syn`` in seconds (> 0)."""

    tau_syn: float = 5e-3

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau_syn", validate.positive("Exponential.tau_syn", self.tau_syn))

    def to_dict(self) -> dict:
        return {"type": "Exponential", "tau_syn": self.tau_syn}


Synapse = Delta | Exponential
SYNAPSES: dict[str, type] = {"Delta": Delta, "Exponential": Exponential}
