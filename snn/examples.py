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


def cuba(params: CubaParameters | None = None, record_v: int = 0) -> Network:
    """The CUBA network; spikes of every neuron recorded, ``v`` of the first ``record_v``."""
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
            )
    net.probe("exc")
    net.probe("inh")
    if record_v:
        net.probe("exc", "v", neurons=range(min(record_v, n_exc)))
    return net
