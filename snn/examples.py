"""Ready-made networks (data only).

:func:`cuba` is the current-based balanced network of Vogels & Abbott (2005) in the
form of Brian2's ``CUBA`` example: LIF neurons (tau_mem 20 ms, rest -49 mV, threshold
-50 mV, reset -60 mV, refractory 5 ms), 80 % excitatory / 20 % inhibitory, random
connectivity with p = 0.02, exponential current synapses (5 ms excitatory, 10 ms
inhibitory) with weights 1.62 mV and -9 mV of drive, initial v uniform in [reset, threshold).
The resting potential above threshold makes the neurons fire spontaneously; the balance
of excitation and inhibition keeps the rates low and irregular.
"""

from __future__ import annotations

from dataclasses import dataclass

from snn import validate
from snn.connectivity import FixedProbability
from snn.network import Network, Population, Uniform
from snn.neurons import LIF
from snn.synapses import Exponential


@dataclass(frozen=True, kw_only=True)
class CubaParameters:
    """Parameters of :func:`cuba` (SI units). ``p`` defaults to Brian2's 0.02."""

    n_neurons: int = 4000
    excitatory_fraction: float = 0.8
    p: float = 0.02
    tau_mem: float = 20e-3
    tau_exc: float = 5e-3
    tau_inh: float = 10e-3
    v_th: float = -50e-3
    v_reset: float = -60e-3
    v_rest: float = -49e-3
    tau_ref: float = 5e-3
    w_exc: float = 60 * 0.27 / 10 * 1e-3  # 1.62 mV of drive (R = 1 ohm: amperes read as volts)
    w_inh: float = -20 * 4.5 / 10 * 1e-3  # -9 mV

    def __post_init__(self) -> None:
        validate.count("cuba.n_neurons", self.n_neurons, low=2)
        validate.probability("cuba.excitatory_fraction", self.excitatory_fraction)
        validate.probability("cuba.p", self.p)

    @property
    def n_exc(self) -> int:
        return int(round(self.n_neurons * self.excitatory_fraction))


def cuba(params: CubaParameters | None = None, record_v: int = 0, plasticity=None) -> Network:
    """The CUBA network; spikes of every neuron recorded, ``v`` of the first ``record_v``.
    ``plasticity``: a learning rule (:mod:`snn.plasticity`) on the excitatory-to-excitatory
    synapses (``snn bench plasticity``), or None."""
    params = params or CubaParameters()
    model = LIF(
        tau_mem=params.tau_mem,
        v_rest=params.v_rest,
        v_reset=params.v_reset,
        v_th=params.v_th,
        tau_ref=params.tau_ref,
        resistance=1.0,
    )
    start = Uniform(low=params.v_reset, high=params.v_th)
    net = Network("cuba")
    n_exc = params.n_exc
    net.add(Population(name="exc", size=n_exc, model=model, initial_v=start))
    net.add(Population(name="inh", size=params.n_neurons - n_exc, model=model, initial_v=start))
    for pre, weight, tau in (("exc", params.w_exc, params.tau_exc), ("inh", params.w_inh, params.tau_inh)):
        for post in ("exc", "inh"):
            net.connect(
                pre,
                post,
                FixedProbability(p=params.p, weight=weight),
                synapse=Exponential(tau_syn=tau),
                name=f"{pre}_{post}",
                plasticity=plasticity if (pre, post) == ("exc", "exc") else None,
            )
    net.probe("exc")
    net.probe("inh")
    if record_v:
        net.probe("exc", "v", neurons=range(min(record_v, n_exc)))
    return net


@dataclass(frozen=True, kw_only=True)
class SongParameters:
    """Parameters of :func:`song2000` (SI units), those of Brian2's STDP example after Song,
    Miller & Abbott (2000): 1000 Poisson inputs at 15 Hz onto one LIF neuron (tau_mem
    10 ms, rest -74 mV, threshold -54 mV, reset -60 mV, no refractory period), exponential
    synapses of 5 ms. Brian2's synapse adds ``g (E_e - v_reset)`` with ``g`` <= ``g_max``
    = 0.01 and ``E_e`` = 0 mV: here the weight is that drive, ``w_max = g_max * 60 mV``.
    Additive pair STDP: ``a_plus = 0.01 w_max``, ``a_minus = 1.05 a_plus`` (tau 20 ms both)."""

    n_inputs: int = 1000
    rate: float = 15.0
    tau_mem: float = 10e-3
    v_rest: float = -74e-3
    v_th: float = -54e-3
    v_reset: float = -60e-3
    tau_syn: float = 5e-3
    w_max: float = 0.01 * 60e-3
    a_plus: float = 0.01
    depression_ratio: float = 1.05
    tau_stdp: float = 20e-3
    seed: int = 0  # draws the initial weights, uniform in [0, w_max)

    def __post_init__(self) -> None:
        validate.count("song2000.n_inputs", self.n_inputs)
        validate.positive("song2000.rate", self.rate)


def song2000(params: SongParameters | None = None) -> Network:
    """The Song, Miller & Abbott (2000) STDP network; the learning projection is
    ``"inputs_out"``, spikes of the output neuron recorded."""
    import numpy as np

    from snn.connectivity import Sparse
    from snn.inputs import PoissonSource
    from snn.plasticity import PairSTDP

    params = params or SongParameters()
    net = Network("song2000")
    net.add(PoissonSource(name="inputs", size=params.n_inputs, rate=params.rate))
    model = LIF(
        tau_mem=params.tau_mem, v_rest=params.v_rest, v_reset=params.v_reset, v_th=params.v_th, tau_ref=0.0
    )
    net.add(Population(name="out", size=1, model=model, initial_v=params.v_rest))
    weights = np.random.default_rng(params.seed).uniform(0.0, params.w_max, params.n_inputs)
    rule = PairSTDP(
        a_plus=params.a_plus * params.w_max,
        a_minus=params.a_plus * params.depression_ratio * params.w_max,
        tau_plus=params.tau_stdp,
        tau_minus=params.tau_stdp,
        w_min=0.0,
        w_max=params.w_max,
    )
    net.connect(
        "inputs",
        "out",
        Sparse(
            pre=np.arange(params.n_inputs), post=np.zeros(params.n_inputs, dtype=np.int64), weights=weights
        ),
        synapse=Exponential(tau_syn=params.tau_syn),
        plasticity=rule,
        name="inputs_out",
    )
    net.probe("out")
    return net
