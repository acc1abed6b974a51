from pathlib import Path

import numpy as np

import snn

ROOT = Path(__file__).resolve().parents[2]


def test_toml_builds_the_same_network_as_the_python_api():
    from_file, defaults = snn.load_toml(ROOT / "examples" / "poisson_driven.toml")
    assert (defaults.dt, defaults.duration, defaults.seed) == (1e-4, 1.0, 0)

    net = snn.Network("poisson_driven")
    model = snn.LIF(tau_mem=0.020, v_rest=-0.070, v_reset=-0.070, v_th=-0.050, tau_ref=0.002)
    net.add(snn.Population(name="exc", size=400, model=model, initial_v=snn.Uniform(low=-0.070, high=-0.050)))
    net.add(snn.Population(name="readout", size=1, model=snn.LI(tau_mem=0.050)))
    net.add(snn.PoissonSource(name="drive", size=100, rate=40.0))
    net.connect(
        "drive",
        "exc",
        snn.FixedInDegree(in_degree=20, weight=0.004, delay=0.001),
        synapse=snn.Exponential(tau_syn=0.005),
        name="drive_to_exc_0",
    )
    net.connect("exc", "readout", snn.AllToAll(weights=0.0005), name="exc_to_readout_1")
    net.inject(snn.Current.step("exc", times=[0.4, 0.6], amplitudes=[0.01, 0.0]))
    net.probe("exc")
    net.probe("readout", "v")

    a = snn.Simulator(from_file, dt=1e-4, seed=0, progress=False).run(0.8)
    b = snn.Simulator(net, dt=1e-4, seed=0, progress=False).run(0.8)
    assert a.spikes["exc"][0].size > 100
    assert a.equals(b)
    # the current step between 0.4 s and 0.6 s raises the rate
    times = a.spikes["exc"][0]
    during = np.count_nonzero((times >= 0.4) & (times < 0.6))
    before = np.count_nonzero((times >= 0.2) & (times < 0.4))
    assert during > 1.5 * before
