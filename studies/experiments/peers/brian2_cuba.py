"""Brian2's CUBA example written in Brian2 itself from :class:`snn.examples.CubaParameters`.

This is deliberately *not* a translation of our ``snn.Network``: it is the independent
reference the Numba simulator is checked and benchmarked against. Targets: ``numpy``,
``cython`` (runtime) and ``cpp_standalone``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

import numpy as np

from snn.examples import CubaParameters
from snn.result import isi_cvs

TARGETS = ("numpy", "cython", "cpp_standalone")


@dataclass
class Brian2Run:
    target: str
    neurons: int
    synapses: int
    build_s: float  # network construction (+ code generation/compilation for standalone)
    run_s: float  # simulation only
    spike_times: np.ndarray  # s
    spike_ids: np.ndarray

    def mean_rate(self, duration: float) -> float:
        return self.spike_times.size / (self.neurons * duration)

    def isi_cv(self, min_spikes: int = 3) -> float:
        cvs = isi_cvs(self.spike_times, self.spike_ids, min_spikes)
        return float(np.mean(cvs)) if cvs else float("nan")


def run_cuba(
    params: CubaParameters, duration: float, dt: float = 1e-4, target: str = "cython", seed: int = 0
) -> Brian2Run:
    """Build and run CUBA in Brian2 with ``target``; returns spikes and timings."""
    import brian2 as b2

    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    b2.start_scope()
    standalone_dir = None
    if target == "cpp_standalone":
        standalone_dir = tempfile.TemporaryDirectory(prefix="neurobridge-brian2-")
        b2.set_device("cpp_standalone", directory=standalone_dir.name, build_on_run=False)
    else:
        b2.set_device("runtime")
        b2.prefs.codegen.target = target
    try:
        b2.defaultclock.dt = dt * b2.second
        b2.seed(seed)
        start = time.perf_counter()
        namespace = {
            "taum": params.tau_mem * b2.second,
            "taue": params.tau_exc * b2.second,
            "taui": params.tau_inh * b2.second,
            "Vt": params.v_th * b2.volt,
            "Vr": params.v_reset * b2.volt,
            "El": params.v_rest * b2.volt,
            "we": params.w_exc * b2.volt,
            "wi": params.w_inh * b2.volt,
        }
        eqs = """
        dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        """
        group = b2.NeuronGroup(
            params.n_neurons,
            eqs,
            threshold="v > Vt",
            reset="v = Vr",
            refractory=params.tau_ref * b2.second,
            method="exact",
            namespace=namespace,
        )
        group.v = "Vr + rand() * (Vt - Vr)"
        n_exc = params.n_exc
        exc = b2.Synapses(group, group, on_pre="ge += we", namespace=namespace)
        inh = b2.Synapses(group, group, on_pre="gi += wi", namespace=namespace)
        exc.connect(f"i < {n_exc}", p=params.p)
        inh.connect(f"i >= {n_exc}", p=params.p)
        monitor = b2.SpikeMonitor(group)
        network = b2.Network(group, exc, inh, monitor)
        if target == "cpp_standalone":
            network.run(duration * b2.second)
            b2.device.build(directory=standalone_dir.name, compile=True, run=True, debug=False)
            build_s = time.perf_counter() - start
            run_s = float(b2.device._last_run_time)
        else:
            network.run(0 * b2.second)  # code generation and compilation happen here
            build_s = time.perf_counter() - start
            start = time.perf_counter()
            network.run(duration * b2.second)
            run_s = time.perf_counter() - start
        synapses = int(len(exc) + len(inh))
        times = np.asarray(monitor.t / b2.second, dtype=np.float64)
        ids = np.asarray(monitor.i[:], dtype=np.int64)
    finally:
        if target == "cpp_standalone":
            b2.device.reinit()
            b2.device.activate()
            b2.set_device("runtime")
            standalone_dir.cleanup()
    return Brian2Run(target, params.n_neurons, synapses, build_s, run_s, times, ids)
