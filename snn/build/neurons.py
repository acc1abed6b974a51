"""Per-population parameter arrays: each model's per-step constants
(:meth:`snn.models.base.NeuronModel.constants`) in one column per constant, and each
neuron's starting state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    kernel: np.ndarray  # int64: snn.models.base.LINEAR, ADEX or IZHIKEVICH
    extra: np.ndarray  # (n_populations, EXTRA_COLUMNS): a nonlinear step's own constants
    initial_v: np.ndarray  # per neuron
    initial_w: np.ndarray  # per neuron: the second state variable (b, w or u)


def discrete_parameters(model, dt: float) -> dict:
    """The per-step constants of one neuron model at step ``dt`` (s): alpha, const_drive,
    drive_gain, rho, beta, v_reset, v_th, reset_amount, reset_subtract, ref_steps, initial_v,
    initial_w, extra (see :meth:`snn.models.base.NeuronModel.constants`).

    Shared by the Numba builder, the PyTorch layers and the Brian2 adapter, so all integrate
    the same numbers.
    """
    model.check_step(dt)
    return model.constants(dt)


def neuron_arrays(network, dt: float, dtype, rng: np.random.Generator) -> NeuronArrays:
    """Concatenate per-population parameters into per-neuron arrays (global order).

    ``rng`` draws random initial values (:class:`~snn.network.Uniform`).
    """
    from snn.network import Uniform

    columns: dict[str, list] = {}
    initial, initial_w = [], []
    for pop in network.populations.values():
        values = discrete_parameters(pop.model, dt)
        start_v = values.pop("initial_v")
        start_w = values.pop("initial_w")
        given = pop.initial_v is not None
        if isinstance(pop.initial_v, Uniform):
            start_v = rng.uniform(pop.initial_v.low, pop.initial_v.high, pop.size)
        elif given:
            start_v = pop.initial_v
        start_v = np.broadcast_to(start_v, (pop.size,))
        if given and hasattr(pop.model, "initial_w"):  # a second state that follows v (Izhikevich's u = b v)
            start_w = pop.model.initial_w(start_v)
        initial.append(start_v)
        initial_w.append(np.broadcast_to(start_w, (pop.size,)))
        values["kernel"] = pop.model.kernel
        for key, value in values.items():
            columns.setdefault(key, []).append(value)
    ints = {"ref_steps": np.int64, "reset_subtract": np.bool_, "kernel": np.int64}
    arrays = {key: np.asarray(parts, dtype=ints.get(key, dtype)) for key, parts in columns.items()}
    sizes = [pop.size for pop in network.populations.values()]
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return NeuronArrays(
        start=start,
        initial_v=np.concatenate(initial).astype(dtype),
        initial_w=np.concatenate(initial_w).astype(dtype),
        **arrays,
    )
