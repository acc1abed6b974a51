"""What every neuron model shares: the base record, the reset choice, and the registry.

A model is a frozen, keyword-only dataclass of SI parameters (validated on construction)
that also knows its own per-step constants (:meth:`NeuronModel.constants`) and how a
synapse's slot enters it (:meth:`NeuronModel.channel`). Its module holds its equations
(in the module docstring, once) and its step as plain arithmetic, which
:mod:`snn.kernels.steps` compiles for every Numba kernel and the torch mirror calls on tensors.

The registry :data:`MODELS` (class name -> class) is what the builder, the TOML loader, the
torch conversion, the NIR tables and each backend's capability table read; a model joins
it with the :func:`register` decorator in its own module, and
:mod:`snn.models` imports every model module once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from snn import validate
from snn.errors import ValidationError

Reset = Literal["value", "subtract"]
RESETS: tuple[str, ...] = ("value", "subtract")

# How the simulator's kernel advances a population (snn.kernels.simulate dispatches on it):
LINEAR = 0  # exact exponential step of a linear membrane (LIF, ALIF, IF, LI, CubaLIF)
ADEX = 1  # snn.models.adex.step
IZHIKEVICH = 2  # snn.models.izhikevich.step

#: Per-population constants a nonlinear step reads (``NeuronArrays.extra`` columns)
EXTRA_COLUMNS = 12

MODELS: dict[str, type[NeuronModel]] = {}


def register(cls: type[NeuronModel]) -> type[NeuronModel]:
    """Class decorator: add a model to :data:`MODELS` under its class name."""
    if cls.__name__ in MODELS and MODELS[cls.__name__] is not cls:
        raise ValueError(f"a neuron model named {cls.__name__!r} is already registered")
    MODELS[cls.__name__] = cls
    return cls


@dataclass(frozen=True, kw_only=True)
class NeuronModel:
    """Base of all neuron models.

    Class attributes a model sets: ``state_variables`` (probe-able state, first ``"v"``;
    a second one is the kernel's second state array), ``spiking`` (False for readouts),
    ``kernel`` (one of :data:`LINEAR`, :data:`ADEX`, :data:`IZHIKEVICH`).
    """

    state_variables: ClassVar[tuple[str, ...]] = ("v",)
    spiking: ClassVar[bool] = True
    kernel: ClassVar[int] = LINEAR

    def _check_reset(self) -> None:
        validate.choice(f"{type(self).__name__}.reset", self.reset, RESETS)  # type: ignore[attr-defined]

    def _check_reset_below_threshold(self, reset: str = "v_reset", threshold: str = "v_th") -> None:
        low, high = getattr(self, reset), getattr(self, threshold)
        if low >= high:
            raise ValidationError(
                f"{type(self).__name__}.{reset}", f"must be < {threshold} ({high}), got {low}"
            )

    def to_dict(self) -> dict:
        """Plain parameters with a ``"model"`` tag, as used in TOML and saved networks."""
        return {"model": type(self).__name__, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def input_synapse(self, synapse):
        """The synapse an incoming projection's spikes actually go through (a model with its
        own synaptic current, like :class:`~snn.models.cubalif.CubaLIF`, replaces it)."""
        return synapse

    def constants(self, dt: float) -> dict:
        """Per-step constants at step ``dt`` (s): ``alpha, const_drive, drive_gain, rho, beta,
        v_reset, v_th, reset_amount, reset_subtract, ref_steps, initial_v, initial_w, extra``."""
        raise NotImplementedError

    def channel(self, synapse, dt: float) -> tuple[float, float]:
        """(decay of a synaptic slot over ``dt``, the slot's coefficient into the step)."""
        raise NotImplementedError

    def check_step(self, dt: float) -> None:
        """Raise :class:`ValidationError` naming the field when the model cannot step by
        ``dt`` (s); every model can unless it says otherwise."""


def linear_only(values: dict) -> dict:
    """``values`` completed with the fields a linear model leaves at their neutral value."""
    return {"rho": 1.0, "beta": 0.0, "initial_w": 0.0, "extra": (0.0,) * EXTRA_COLUMNS, **values}
