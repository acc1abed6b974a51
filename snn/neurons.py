r"""Neuron models: validated parameter records, no numerics.

Every model is a frozen, keyword-only dataclass in SI units. The simulator integrates
the linear part of each model exactly over one step ``dt`` (exponential propagators),
so the discrete update is exact for inputs that are constant within a step.

Continuous-time equations (``I`` is the sum of input currents, in amperes):

* :class:`LIF`   ``tau_mem dv/dt = -(v - v_rest) + resistance * I``;
  spike when ``v > v_th``, then ``v <- v_reset`` (or ``v <- v - (v_th - v_reset)``
  with ``reset="subtract"``) and ``v`` is held for ``tau_ref`` seconds. Input that
  arrives while ``v`` is held is lost for delta synapses (as in NEST; Brian2's
  ``on_pre="v += w"`` would still add it) and keeps decaying for exponential ones.
* :class:`ALIF`  the LIF with an adaptive threshold ``A = v_th + beta * b`` where ``b``
  follows Bellec et al.'s (2020) discrete form ``b <- rho b + (1 - rho) z``, with
  ``rho = exp(-dt / tau_adapt)`` and ``z`` the 0/1 spike indicator of the step; in
  continuous time this is ``tau_adapt db/dt = -b + dt * sum_k delta(t - t_k)``.
* :class:`IF`    ``capacitance dv/dt = I``; threshold and reset as the LIF.
* :class:`LI`    leaky integrator readout: the LIF equation with no threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from snn import validate
from snn.errors import ValidationError

Reset = Literal["value", "subtract"]
RESETS: tuple[str, ...] = ("value", "subtract")


@dataclass(frozen=True, kw_only=True)
class NeuronModel:
    """Base of all neuron models; subclasses list their probe-able state variables."""

    state_variables: ClassVar[tuple[str, ...]] = ("v",)
    spiking: ClassVar[bool] = True

    def _check_reset(self) -> None:
        if self.reset not in RESETS:  # type: ignore[attr-defined]
            raise ValidationError(
                f"{type(self).__name__}.reset",
                f"must be one of {RESETS}, got {self.reset!r}",  # type: ignore[attr-defined]
            )

    def to_dict(self) -> dict:
        """Plain parameters with a ``"model"`` tag, as used in TOML and saved networks."""
        return {"model": type(self).__name__, **{f.name: getattr(self, f.name) for f in fields(self)}}


@dataclass(frozen=True, kw_only=True)
class LIF(NeuronModel):
    """Leaky integrate-and-fire neuron.

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
    """

    tau_mem: float = 20e-3
    v_rest: float = -70e-3
    v_reset: float = -70e-3
    v_th: float = -50e-3
    resistance: float = 1.0
    tau_ref: float = 2e-3
    i_bias: float = 0.0
    reset: Reset = "value"

    def __post_init__(self) -> None:
        kind = type(self).__name__
        object.__setattr__(self, "tau_mem", validate.positive(f"{kind}.tau_mem", self.tau_mem))
        object.__setattr__(self, "v_rest", validate.finite(f"{kind}.v_rest", self.v_rest))
        object.__setattr__(self, "v_reset", validate.finite(f"{kind}.v_reset", self.v_reset))
        object.__setattr__(self, "v_th", validate.finite(f"{kind}.v_th", self.v_th))
        object.__setattr__(self, "resistance", validate.positive(f"{kind}.resistance", self.resistance))
        object.__setattr__(self, "tau_ref", validate.non_negative(f"{kind}.tau_ref", self.tau_ref))
        object.__setattr__(self, "i_bias", validate.finite(f"{kind}.i_bias", self.i_bias))
        if self.v_reset >= self.v_th:
            raise ValidationError(f"{kind}.v_reset", f"must be < v_th ({self.v_th}), got {self.v_reset}")
        self._check_reset()


@dataclass(frozen=True, kw_only=True)
class ALIF(LIF):
    """LIF with a spike-triggered adaptive threshold ``A = v_th + beta * b``.

    Parameters (besides the LIF's)
    ----------
    tau_adapt: adaptation time constant (s), > 0.
    beta: threshold increase per unit of ``b`` (V), >= 0. ``b`` is dimensionless and
        jumps by ``1 - exp(-dt / tau_adapt)`` per spike, so it averages about
        ``rate * dt`` and the threshold rises by about ``beta * rate * dt``
        (Bellec et al.'s discrete form; their beta = 1.8 with v_th = 0.01 at dt = 1 ms).
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v", "b")
    tau_adapt: float = 200e-3
    beta: float = 1.8

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "tau_adapt", validate.positive("ALIF.tau_adapt", self.tau_adapt))
        object.__setattr__(self, "beta", validate.non_negative("ALIF.beta", self.beta))


@dataclass(frozen=True, kw_only=True)
class IF(NeuronModel):
    """Non-leaky integrate-and-fire neuron: ``capacitance dv/dt = I``.

    Parameters
    ----------
    capacitance: membrane capacitance (F), > 0.
    v_reset, v_th: reset potential and threshold (V), v_reset < v_th.
    tau_ref: refractory period (s), >= 0.
    i_bias: constant bias current (A).
    reset: ``"value"`` or ``"subtract"`` (the latter is what ANN->SNN conversion uses).
    """

    capacitance: float = 1.0
    v_reset: float = 0.0
    v_th: float = 1.0
    tau_ref: float = 0.0
    i_bias: float = 0.0
    reset: Reset = "value"

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacitance", validate.positive("IF.capacitance", self.capacitance))
        object.__setattr__(self, "v_reset", validate.finite("IF.v_reset", self.v_reset))
        object.__setattr__(self, "v_th", validate.finite("IF.v_th", self.v_th))
        object.__setattr__(self, "tau_ref", validate.non_negative("IF.tau_ref", self.tau_ref))
        object.__setattr__(self, "i_bias", validate.finite("IF.i_bias", self.i_bias))
        if self.v_reset >= self.v_th:
            raise ValidationError("IF.v_reset", f"must be < v_th ({self.v_th}), got {self.v_reset}")
        self._check_reset()


@dataclass(frozen=True, kw_only=True)
class LI(NeuronModel):
    """Leaky integrator (non-spiking readout): ``tau_mem dv/dt = -(v - v_rest) + R I``.

    Parameters
    ----------
    tau_mem: time constant (s), > 0.
    v_rest: resting value (V).
    resistance: (ohm), > 0.
    i_bias: constant bias current (A).
    """

    spiking: ClassVar[bool] = False
    tau_mem: float = 20e-3
    v_rest: float = 0.0
    resistance: float = 1.0
    i_bias: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau_mem", validate.positive("LI.tau_mem", self.tau_mem))
        object.__setattr__(self, "v_rest", validate.finite("LI.v_rest", self.v_rest))
        object.__setattr__(self, "resistance", validate.positive("LI.resistance", self.resistance))
        object.__setattr__(self, "i_bias", validate.finite("LI.i_bias", self.i_bias))


MODELS: dict[str, type[NeuronModel]] = {cls.__name__: cls for cls in (LIF, ALIF, IF, LI)}
