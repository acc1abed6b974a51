"""Liquid state machines: a fixed random spiking network whose filtered spikes are the features.

:class:`LSM` holds the hyperparameters; :meth:`LSM.network` builds an :class:`snn.Network`
(excitatory and inhibitory LIF or ALIF populations, exponential current synapses, random
connectivity by probability or by distance on a 3-D grid as in Maass, Natschläger & Markram
2002: ``p = C exp(-(d / lambda)^2)``) driven by a given spike source, which runs
on the Numba simulator like any other network. :func:`filtered_spikes` turns the spikes
into features: each neuron's spike train filtered by ``exp(-t / tau)`` and sampled at given
times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from snn import validate
from snn.connectivity import FixedProbability, Sparse
from snn.errors import ValidationError
from snn.network import Network, Population, Uniform
from snn.neurons import ALIF, LIF
from snn.synapses import Exponential


@dataclass(frozen=True, kw_only=True)
class LSM:
    """Hyperparameters of a liquid (SI units; weights in A of synaptic current, R = 1 ohm).

    units: neurons (>= 2), ``excitatory_fraction`` of them excitatory. connectivity:
    ``"probability"`` (each ordered pair with probability ``p``, scaled by ``p_scale`` for
    the pair type) or ``"distance"`` (neurons on a 3-D grid, ``p = C exp(-(d/lambda)^2)``
    with ``C`` = ``p_scale`` for the pair type and ``lambda`` = ``length``, in grid units).
    w_exc / w_inh: synaptic current jump of excitatory / inhibitory synapses (A, inhibitory
    negative). input_p: fraction of neurons each input channel reaches; w_input (A).
    neuron: ``"LIF"`` or ``"ALIF"`` (spike-frequency adaptation in the excitatory neurons).
    """

    units: int = 500
    excitatory_fraction: float = 0.8
    connectivity: Literal["probability", "distance"] = "probability"
    p: float = 0.1
    length: float = 2.0
    p_scale: tuple[float, float, float, float] = (0.3, 0.2, 0.4, 0.1)  # EE, EI, IE, II (Maass 2002)
    w_exc: float = 3e-3
    w_inh: float = -12e-3
    w_input: float = 12e-3
    input_p: float = 0.2
    tau_mem: float = 30e-3
    tau_ref: float = 2e-3
    tau_exc: float = 3e-3
    tau_inh: float = 6e-3
    tau_adapt: float = 0.3
    beta: float = 2e-3
    neuron: Literal["LIF", "ALIF"] = "LIF"

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", validate.count("LSM.units", self.units, low=2))
        validate.probability("LSM.excitatory_fraction", self.excitatory_fraction)
        validate.probability("LSM.p", self.p)
        validate.probability("LSM.input_p", self.input_p)
        validate.positive("LSM.length", self.length)
        for value in self.p_scale:
            validate.probability("LSM.p_scale", value)
        for name in ("w_exc", "w_input"):
            validate.non_negative(f"LSM.{name}", getattr(self, name))
        if not validate.finite("LSM.w_inh", self.w_inh) <= 0:
            raise ValidationError("LSM.w_inh", f"must be <= 0 (inhibitory), got {self.w_inh}")
        for name in ("tau_mem", "tau_exc", "tau_inh", "tau_adapt"):
            validate.positive(f"LSM.{name}", getattr(self, name))
        validate.non_negative("LSM.tau_ref", self.tau_ref)
        if self.connectivity not in ("probability", "distance"):
            raise ValidationError(
                "LSM.connectivity", f"must be 'probability' or 'distance', got {self.connectivity!r}"
            )
        if self.neuron not in ("LIF", "ALIF"):
            raise ValidationError("LSM.neuron", f"must be 'LIF' or 'ALIF', got {self.neuron!r}")

    @property
    def n_exc(self) -> int:
        return int(round(self.units * self.excitatory_fraction))

    def network(self, source, seed: int = 0) -> Network:
        """The liquid driven by ``source`` (any spike source, under its own name). Distance-based
        synapses are drawn here from ``seed``; probability-based ones by the simulator from its seed."""
        net = Network("lsm")
        common = dict(tau_mem=self.tau_mem, v_rest=0.0, v_reset=0.0, v_th=0.015, tau_ref=self.tau_ref)
        exc_model = (
            ALIF(**common, tau_adapt=self.tau_adapt, beta=self.beta)
            if self.neuron == "ALIF"
            else LIF(**common)
        )
        start = Uniform(low=0.0, high=0.015)
        n_exc = self.n_exc
        net.add(Population(name="exc", size=n_exc, model=exc_model, initial_v=start))
        net.add(Population(name="inh", size=self.units - n_exc, model=LIF(**common), initial_v=start))
        net.add(source)
        synapses = {"exc": Exponential(tau_syn=self.tau_exc), "inh": Exponential(tau_syn=self.tau_inh)}
        weights = {"exc": self.w_exc, "inh": self.w_inh}
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        positions = _grid(self.units, rng)
        ranges = {"exc": np.arange(n_exc), "inh": np.arange(n_exc, self.units)}
        for k, (pre, post) in enumerate((("exc", "exc"), ("exc", "inh"), ("inh", "exc"), ("inh", "inh"))):
            if self.connectivity == "probability":
                rule = FixedProbability(p=self.p, weight=weights[pre], allow_autapses=False)
            else:
                rule = _by_distance(
                    positions[ranges[pre]],
                    positions[ranges[post]],
                    self.p_scale[k],
                    self.length,
                    weights[pre],
                    pre == post,
                    rng,
                )
            net.connect(pre, post, rule, synapse=synapses[pre], name=f"{pre}_{post}")
        for post in ("exc", "inh"):
            net.connect(
                source.name,
                post,
                FixedProbability(p=self.input_p, weight=self.w_input),
                synapse=synapses["exc"],
                name=f"input_{post}",
            )
        net.probe("exc")
        net.probe("inh")
        return net


def _grid(units: int, rng: np.random.Generator) -> np.ndarray:
    """``units`` distinct integer positions on the smallest cube-like grid that holds them,
    shuffled so that excitatory and inhibitory neurons are interleaved."""
    side = int(np.ceil(units ** (1 / 3)))
    cells = np.stack(np.meshgrid(*(np.arange(side),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    return cells[rng.permutation(cells.shape[0])[:units]].astype(float)


def _by_distance(pre_xyz, post_xyz, scale, length, weight, same, rng) -> Sparse:
    distance2 = ((pre_xyz[:, None, :] - post_xyz[None, :, :]) ** 2).sum(axis=-1)
    probability = scale * np.exp(-distance2 / length**2)
    if same:
        np.fill_diagonal(probability, 0.0)
    pre, post = np.nonzero(rng.random(probability.shape) < probability)
    return Sparse(pre=pre, post=post, weights=weight)


def filtered_spikes(times, ids, n_neurons: int, sample_times, tau: float) -> np.ndarray:
    """Each neuron's spike train filtered by ``exp(-t / tau)`` (spike = jump of 1), sampled just
    after each of ``sample_times`` (s, increasing). Returns (n_samples, n_neurons)."""
    tau = validate.positive("tau", tau)
    sample_times = np.asarray(sample_times, dtype=float)
    order = np.argsort(times, kind="stable")
    times, ids = np.asarray(times, dtype=float)[order], np.asarray(ids)[order]
    out = np.empty((sample_times.size, n_neurons))
    state = np.zeros(n_neurons)
    previous, first = -np.inf, 0
    for s, now in enumerate(sample_times):
        if now < previous:
            raise ValidationError("sample_times", "must increase")
        last = np.searchsorted(times, now, side="right")
        state *= np.exp(-(now - previous) / tau) if np.isfinite(previous) else 0.0
        np.add.at(state, ids[first:last], np.exp(-(now - times[first:last]) / tau))
        out[s] = state
        previous, first = now, last
    return out
