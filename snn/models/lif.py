r"""Leaky integrate-and-fire neuron (LIF).

Continuous time (``I`` the sum of input currents, A)::

    tau_mem dv/dt = -(v - v_rest) + resistance * (I + i_bias)
    spike when v > v_th, then v <- v_reset   (reset="value")
                          or  v <- v - (v_th - v_reset)   (reset="subtract")
    and v is held for tau_ref seconds (ref_steps = round(tau_ref / dt) steps after the
    spiking step; delta-synapse input arriving while held is lost, as in NEST).

Refractoriness, the same in every kernel and in torch: a per-neuron countdown
``refractory_left`` (steps still held, 0 when free). A neuron is held in a step when its
countdown is positive (:func:`holding`), the countdown drops by one each step
(:func:`count_down`) and a spike sets it to ``ref_steps``.

Exact discrete step (``alpha = exp(-dt / tau_mem)``), exact for inputs constant within a
step (:func:`integrate`)::

    v_k = alpha v_{k-1} + const_drive + drive_k
    const_drive = (1 - alpha) (v_rest + resistance i_bias)     drive_gain = (1 - alpha) resistance
    drive_k = drive_gain i_ext + sum_c coef_c s_c              s_c: synaptic slot of channel c

A delta synapse's weight (V) lands in its slot at the end of a step and leaks with ``v``
over the next one (``coef = alpha``); an exponential synapse's slot is a current (A)
decaying by ``exp(-dt / tau_syn)`` per step whose exact contribution is :func:`exponential_channel`.

Forward-Euler step (``integration="euler"``), how snnTorch, Norse and most NIR producers
train and run their models, so a graph they wrote behaves here as it did there::

    alpha = 1 - dt / tau_mem     const_drive = dt / tau_mem (v_rest + resistance i_bias)
    drive_gain = dt / tau_mem resistance
    delta slot: coef = 1 (the jump is added, not leaked)
    exponential slot: decay = 1 - dt / tau_syn, coef = dt / tau_mem resistance (held current)

It needs ``dt <= tau_mem`` (and ``dt <= tau_syn``), else a factor is negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.models.base import NeuronModel, Reset, linear_only, register

Integration = Literal["exact", "euler"]
INTEGRATIONS: tuple[str, ...] = ("exact", "euler")


def integrate(v, alpha, const_drive, drive):
    """The exact step of the linear membrane: ``v`` after ``dt`` (V)."""
    return alpha * v + const_drive + drive


def crossed(v, threshold):
    """The spike condition of every threshold model: strictly above."""
    return v > threshold


def reset(v, v_reset, reset_amount, reset_subtract):
    """``v`` right after a spike: to ``v_reset``, or down by ``reset_amount = v_th - v_reset``."""
    return v - reset_amount if reset_subtract else v_reset


def reset_fired(v, fired, v_reset, reset_amount, reset_subtract, where):
    """:func:`reset` over whole tensors (torch, TensorFlow): ``fired`` is 0/1 per neuron and
    ``where`` the framework's select (``torch.where``, ``tf.where``). The subtraction is
    written ``v - fired * reset_amount``, the same value where ``fired`` is 1 and a product
    a surrogate gradient passes through. ``reset_subtract``: one bool, or a boolean tensor
    per neuron (then both forms are computed and selected)."""
    if isinstance(reset_subtract, (bool, np.bool_)):
        return v - fired * reset_amount if reset_subtract else where(fired > 0, v_reset, v)
    return where(reset_subtract, v - fired * reset_amount, where(fired > 0, v_reset, v))


def holding(refractory_left):
    """Whether a neuron is held (refractory) in this step: its countdown is still positive."""
    return refractory_left > 0


def count_down(refractory_left):
    """The countdown after one step: one less while held, 0 when free. A spike in the same
    step then sets it to ``ref_steps`` (a held neuron cannot spike, so the two never meet)."""
    return (refractory_left > 0) * (refractory_left - 1)


def refractory_steps(model, dt: float) -> int:
    """``round(tau_ref / dt)``: steps ``v`` is held after the spiking step."""
    steps = int(round(model.tau_ref / dt))
    if steps >= np.iinfo(np.int32).max:
        raise ValidationError(f"{type(model).__name__}.tau_ref", f"must be < 2**31 steps of dt={dt} s")
    return steps


def threshold_constants(model, dt: float) -> dict:
    """Threshold, reset and hold of a threshold model with ``v_reset``, ``v_th``, ``reset`` and
    ``tau_ref`` (LIF and what builds on it, IF)."""
    return {
        "v_reset": model.v_reset,
        "v_th": model.v_th,
        "reset_amount": model.v_th - model.v_reset,
        "reset_subtract": model.reset == "subtract",
        "ref_steps": refractory_steps(model, dt),
    }


def check_euler_step(field: str, tau: float, dt: float) -> None:
    """Forward Euler's factor ``1 - dt / tau`` must not be negative."""
    if dt > tau:
        raise ValidationError(
            field, f"must be >= dt ({dt} s) with integration='euler' (1 - dt / tau would be < 0), got {tau}"
        )


def leak_constants(tau_mem: float, resistance: float, v_rest: float, i_bias: float, dt: float,
                   integration: str = "exact") -> dict:  # fmt: skip
    """``alpha``, ``drive_gain`` and ``const_drive`` of a leaky membrane (exact: with expm1,
    accurate for dt << tau; or forward Euler)."""
    if integration == "euler":
        fraction = dt / tau_mem
        return {
            "alpha": 1.0 - fraction,
            "const_drive": fraction * (v_rest + resistance * i_bias),
            "drive_gain": fraction * resistance,
        }
    gain = -np.expm1(-dt / tau_mem) * resistance
    rest = -np.expm1(-dt / tau_mem) * v_rest
    return {"alpha": float(np.exp(-dt / tau_mem)), "const_drive": rest + gain * i_bias, "drive_gain": gain}


def exponential_channel(tau_mem: float, resistance: float, tau_syn: float, dt: float) -> tuple[float, float]:
    """(decay, coefficient into ``v``) of a current slot ``I0 exp(-t / tau_syn)`` over one step."""
    decay = np.exp(-dt / tau_syn)
    difference = tau_syn - tau_mem
    if difference == 0.0:
        return decay, resistance * dt / tau_mem * np.exp(-dt / tau_mem)
    # v response to I(t) = I0 exp(-t/tau_syn) from v = 0, the exact solution of the linear ODE,
    # tau_syn / (tau_syn - tau_mem) * (exp(-dt/tau_syn) - exp(-dt/tau_mem)). Written with expm1
    # while the two rates are close (|spread| <= 1), so it stays accurate as tau_syn approaches
    # tau_mem; as the plain difference beyond, where expm1 would overflow (tau_mem = 1e-7 s at
    # dt = 1e-4 s: exp(-1000) * expm1(1000) = 0 * inf = NaN) and no cancellation can occur.
    spread = dt * difference / (tau_mem * tau_syn)
    if abs(spread) <= 1.0:
        response = tau_syn / difference * np.exp(-dt / tau_mem) * np.expm1(spread)
    else:
        response = tau_syn / difference * (decay - np.exp(-dt / tau_mem))
    return decay, resistance * response


def leaky_channel(tau_mem: float, resistance: float, synapse, dt: float,
                  integration: str = "exact") -> tuple[float, float]:  # fmt: skip
    """A synapse's slot into a leaky membrane: delta jumps leak one step (exact) or are added
    (Euler); exponential as above."""
    from snn.synapses import Delta

    if isinstance(synapse, Delta):
        return 0.0, (1.0 if integration == "euler" else float(np.exp(-dt / tau_mem)))
    if integration == "euler":
        check_euler_step("Exponential.tau_syn", synapse.tau_syn, dt)
        return 1.0 - dt / synapse.tau_syn, resistance * dt / tau_mem
    return exponential_channel(tau_mem, resistance, synapse.tau_syn, dt)


def check_membrane_step(model, dt: float) -> None:
    """A leaky membrane (``tau_mem``, ``integration``) integrated with forward Euler needs
    ``dt <= tau_mem``."""
    if model.integration == "euler":
        check_euler_step(f"{type(model).__name__}.tau_mem", model.tau_mem, dt)


def check_integration(model) -> None:
    """``integration`` is one of :data:`INTEGRATIONS`."""
    validate.choice(f"{type(model).__name__}.integration", model.integration, INTEGRATIONS)


@register
@dataclass(frozen=True, kw_only=True)
class LIF(NeuronModel):
    """Leaky integrate-and-fire neuron (equations: :mod:`snn.models.lif`).

    Parameters
    ----------
    tau_mem: membrane time constant (s), > 0.
    v_rest: resting potential (V).
    v_reset: potential after a spike (V), < v_th.
    v_th: firing threshold (V).
    resistance: membrane resistance (ohm), > 0. With the default 1 ohm a current of
        1 A drives the membrane by 1 V, so synaptic weights read as volts of drive,
        as in Brian2's CUBA example.
    tau_ref: absolute refractory period (s), >= 0; ``v`` is held at its reset value.
    i_bias: constant bias current (A).
    reset: ``"value"`` (v <- v_reset) or ``"subtract"`` (v <- v - (v_th - v_reset)).
    integration: ``"exact"`` (the exponential step) or ``"euler"`` (forward Euler, as the
        NIR producers run their graphs; needs dt <= tau_mem).
    """

    tau_mem: float = 20e-3
    v_rest: float = -70e-3
    v_reset: float = -70e-3
    v_th: float = -50e-3
    resistance: float = 1.0
    tau_ref: float = 2e-3
    i_bias: float = 0.0
    reset: Reset = "value"
    integration: Integration = "exact"

    def __post_init__(self) -> None:
        kind = type(self).__name__
        object.__setattr__(self, "tau_mem", validate.positive(f"{kind}.tau_mem", self.tau_mem))
        object.__setattr__(self, "v_rest", validate.finite(f"{kind}.v_rest", self.v_rest))
        object.__setattr__(self, "v_reset", validate.finite(f"{kind}.v_reset", self.v_reset))
        object.__setattr__(self, "v_th", validate.finite(f"{kind}.v_th", self.v_th))
        object.__setattr__(self, "resistance", validate.positive(f"{kind}.resistance", self.resistance))
        object.__setattr__(self, "tau_ref", validate.non_negative(f"{kind}.tau_ref", self.tau_ref))
        object.__setattr__(self, "i_bias", validate.finite(f"{kind}.i_bias", self.i_bias))
        self._check_reset_below_threshold()
        self._check_reset()
        check_integration(self)

    def constants(self, dt: float) -> dict:
        return linear_only(
            {
                **leak_constants(
                    self.tau_mem, self.resistance, self.v_rest, self.i_bias, dt, self.integration
                ),
                **threshold_constants(self, dt),
                "initial_v": self.v_rest,
            }
        )

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        return leaky_channel(self.tau_mem, self.resistance, self.input_synapse(synapse), dt, self.integration)

    def check_step(self, dt: float) -> None:
        """Whether this model can step by ``dt`` (s): forward Euler needs dt <= tau_mem."""
        check_membrane_step(self, dt)
