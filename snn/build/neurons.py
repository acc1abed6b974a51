"""Per-neuron parameter arrays for the exact one-step update

``v <- alpha v + const_drive + drive_gain * i_ext + syn_in``

with ``alpha = exp(-dt / tau_mem)`` (1 for IF), ``drive_gain = (1 - alpha) R``
(``dt / C`` for IF) and ``const_drive = (1 - alpha) v_rest + drive_gain * i_bias``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.errors import ValidationError
from snn.neurons import ALIF, IF, LI


@dataclass
class NeuronArrays:
    """Parameters per population (index p covers neurons ``start[p]:start[p+1]``)."""

    start: np.ndarray  # int64, n_populations + 1
    alpha: np.ndarray
    const_drive: np.ndarray
    drive_gain: np.ndarray
    v_reset: np.ndarray
    v_th: np.ndarray
    reset_amount: np.ndarray
    reset_subtract: np.ndarray  # bool
    ref_steps: np.ndarray  # int64
    rho: np.ndarray  # adaptation decay per step (1 = no adaptation)
    beta: np.ndarray  # threshold increase per unit b (V)
    initial_v: np.ndarray  # per neuron


def _refractory_steps(model, dt: float) -> int:
    steps = int(round(model.tau_ref / dt))
    if steps >= np.iinfo(np.int32).max:
        raise ValidationError(f"{type(model).__name__}.tau_ref", f"must be < 2**31 steps of dt={dt} s")
    return steps


def discrete_parameters(model, dt: float) -> dict:
    """The per-step constants of one neuron model at step ``dt`` (s): alpha, const_drive,
    drive_gain, rho, beta, v_reset, v_th, reset_amount, reset_subtract, ref_steps, initial_v.

    Shared by the Numba builder and the PyTorch layers, so both integrate the same numbers.
    """
    if isinstance(model, IF):
        alpha, gain, rest = 1.0, dt / model.capacitance, 0.0
    else:
        alpha = float(np.exp(-dt / model.tau_mem))
        gain = -np.expm1(-dt / model.tau_mem) * model.resistance
        rest = -np.expm1(-dt / model.tau_mem) * model.v_rest
    values = {
        "alpha": alpha,
        "const_drive": rest + gain * model.i_bias,
        "drive_gain": gain,
        "rho": 1.0,
        "beta": 0.0,
    }
    if isinstance(model, LI):
        values.update(
            v_reset=model.v_rest,
            v_th=np.inf,
            reset_amount=0.0,
            reset_subtract=False,
            ref_steps=0,
            initial_v=model.v_rest,
        )
        return values
    values.update(
        v_reset=model.v_reset,
        v_th=model.v_th,
        reset_amount=model.v_th - model.v_reset,
        reset_subtract=model.reset == "subtract",
        ref_steps=_refractory_steps(model, dt),
        initial_v=model.v_reset if isinstance(model, IF) else model.v_rest,
    )
    if isinstance(model, ALIF):
        values.update(rho=float(np.exp(-dt / model.tau_adapt)), beta=model.beta)
    return values


def neuron_arrays(network, dt: float, dtype, rng: np.random.Generator) -> NeuronArrays:
    """Concatenate per-population parameters into per-neuron arrays (global order).

    ``rng`` draws random initial values (:class:`~snn.network.Uniform`).
    """
    from snn.network import Uniform

    columns: dict[str, list] = {}
    initial = []
    for pop in network.populations.values():
        values = discrete_parameters(pop.model, dt)
        start_v = values.pop("initial_v")
        if isinstance(pop.initial_v, Uniform):
            start_v = rng.uniform(pop.initial_v.low, pop.initial_v.high, pop.size)
        elif pop.initial_v is not None:
            start_v = pop.initial_v
        initial.append(np.broadcast_to(start_v, (pop.size,)))
        for key, value in values.items():
            columns.setdefault(key, []).append(value)
    ints = {"ref_steps": np.int64, "reset_subtract": np.bool_}
    arrays = {key: np.asarray(parts, dtype=ints.get(key, dtype)) for key, parts in columns.items()}
    sizes = [pop.size for pop in network.populations.values()]
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return NeuronArrays(start=start, initial_v=np.concatenate(initial).astype(dtype), **arrays)
