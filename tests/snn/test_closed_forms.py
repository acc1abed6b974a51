"""Single neurons against closed-form solutions of their equations."""

import numpy as np
import pytest

import snn


def lif_time_to_threshold(tau, resistance, current, v_rest, v_reset, v_th):
    """Time for tau dv/dt = -(v - v_rest) + R I to go from v_reset to v_th (s)."""
    drive = resistance * current
    return tau * np.log((drive + v_rest - v_reset) / (drive + v_rest - v_th))


def single_population(model, currents, duration, dt, probe_v=False):
    net = snn.Network()
    net.add(snn.Population(name="n", size=len(currents), model=model))
    net.inject(snn.Current.constant("n", np.asarray(currents)))
    net.probe("n")
    if probe_v:
        net.probe("n", "v")
    return snn.Simulator(net, dt=dt, progress=False).run(duration)


def test_lif_first_spike_at_closed_form_time():
    model = snn.LIF(tau_mem=20e-3, v_rest=-70e-3, v_reset=-70e-3, v_th=-50e-3, tau_ref=0.0)
    current = 0.03  # A with R = 1 ohm: drives v towards -40 mV
    dt = 1e-5
    result = single_population(model, [current], 0.05, dt)
    first = result.spikes["n"][0][0]
    expected = lif_time_to_threshold(20e-3, 1.0, current, -70e-3, -70e-3, -50e-3)  # 21.97 ms
    # the crossing happens within the step stamped with its start time
    assert first <= expected <= first + dt + 1e-12


def test_lif_fi_curve_matches_formula_within_one_percent():
    tau_ref = 2e-3
    model = snn.LIF(tau_mem=10e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, resistance=1e3, tau_ref=tau_ref)
    currents = np.linspace(1.05e-3, 5e-3, 12)  # threshold current is 1e-3 A (R I = v_th)
    duration = 2.0
    result = single_population(model, currents, duration, dt=1e-5)
    times, ids = result.spikes["n"]
    for k, current in enumerate(currents):
        mine = times[ids == k]
        simulated_rate = (mine.size - 1) / (mine[-1] - mine[0])
        period = tau_ref + lif_time_to_threshold(10e-3, 1e3, current, 0.0, 0.0, 1.0)
        assert simulated_rate == pytest.approx(1.0 / period, rel=0.01)


def test_refractory_period_adds_to_interval():
    current = 0.03
    free = lif_time_to_threshold(20e-3, 1.0, current, -70e-3, -70e-3, -50e-3)
    dt = 1e-5
    for tau_ref in (0.0, 5e-3):
        model = snn.LIF(tau_mem=20e-3, tau_ref=tau_ref)
        times, _ = single_population(model, [current], 0.2, dt).spikes["n"]
        intervals = np.diff(times)
        assert np.all(np.abs(intervals - (free + tau_ref)) <= dt + 1e-12)


def test_if_neuron_integrates_linearly():
    capacitance, current, v_th = 2e-9, 1e-9, 1.0  # dv/dt = 0.5 V/s -> threshold after 2 s
    model = snn.IF(capacitance=capacitance, v_reset=0.0, v_th=v_th)
    dt = 1e-4
    result = single_population(model, [current], 2.5, dt, probe_v=True)
    assert result.spikes["n"][0][0] == pytest.approx(capacitance * v_th / current, abs=dt)
    trace = result.traces["n_v"]
    before = trace.t < 1.9
    np.testing.assert_allclose(trace.values[before, 0], current / capacitance * trace.t[before], rtol=1e-9)


def test_lif_membrane_relaxes_exactly():
    # no spikes: v(t) = v_inf + (v0 - v_inf) exp(-t / tau), sampled exactly at step ends
    model = snn.LIF(tau_mem=15e-3, v_rest=-65e-3, v_th=0.0, v_reset=-80e-3)
    net = snn.Network()
    net.add(snn.Population(name="n", size=1, model=model, initial_v=-80e-3))
    net.inject(snn.Current.constant("n", 5e-3))
    net.probe("n", "v")
    trace = snn.Simulator(net, dt=1e-4, progress=False).run(0.1).traces["n_v"]
    v_inf = -65e-3 + 5e-3
    expected = v_inf + (-80e-3 - v_inf) * np.exp(-trace.t / 15e-3)
    np.testing.assert_allclose(trace.values[:, 0], expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("tau_syn", [5e-3, 20e-3, 20e-3 * (1 + 1e-9), 30e-3])
def test_exponential_synapse_psp_matches_closed_form(tau_syn):
    """One input spike at t=0: v(t) = w R tau_s/(tau_s - tau_m) (e^{-t/tau_s} - e^{-t/tau_m})."""
    tau_mem, weight, dt = 20e-3, 1e-3, 1e-4
    net = snn.Network()
    net.add(snn.SpikeSource(name="in", size=1, times=[0.0], ids=[0]))
    net.add(
        snn.Population(name="n", size=1, model=snn.LIF(tau_mem=tau_mem, v_rest=0.0, v_reset=-1.0, v_th=1.0))
    )
    net.connect("in", "n", snn.AllToAll(weights=weight), synapse=snn.Exponential(tau_syn=tau_syn))
    net.probe("n", "v")
    trace = snn.Simulator(net, dt=dt, progress=False).run(0.1).traces["n_v"]
    # the spike of step 0 acts from step 1 on: elapsed time at the end of step k is (k) dt
    elapsed = trace.t - dt
    if tau_syn == tau_mem:
        expected = weight * elapsed / tau_mem * np.exp(-elapsed / tau_mem)
    elif abs(tau_syn - tau_mem) < 1e-6 * tau_mem:
        # nearly equal time constants: the difference of exponentials cancels most digits in
        # float64, so evaluate the closed form with 50-digit arithmetic
        mpmath = pytest.importorskip("mpmath")
        mpmath.mp.dps = 50
        ts, tm = mpmath.mpf(tau_syn), mpmath.mpf(tau_mem)
        expected = np.array(
            [
                float(
                    weight
                    * ts
                    / (ts - tm)
                    * (mpmath.exp(-mpmath.mpf(t) / ts) - mpmath.exp(-mpmath.mpf(t) / tm))
                )
                for t in elapsed
            ]
        )
    else:
        expected = (
            weight * tau_syn / (tau_syn - tau_mem) * (np.exp(-elapsed / tau_syn) - np.exp(-elapsed / tau_mem))
        )
    np.testing.assert_allclose(trace.values[:, 0], expected, rtol=1e-9, atol=1e-18)


def test_alif_threshold_adaptation_decays_with_its_own_time_constant():
    tau_adapt, dt, beta = 150e-3, 1e-4, 5e-3
    model = snn.ALIF(
        tau_mem=20e-3,
        v_rest=-70e-3,
        v_reset=-70e-3,
        v_th=-50e-3,
        tau_ref=2e-3,
        tau_adapt=tau_adapt,
        beta=beta,
    )
    net = snn.Network()
    net.add(snn.SpikeSource(name="kick", size=1, times=[0.01], ids=[0]))
    net.add(snn.Population(name="n", size=1, model=model))
    net.connect("kick", "n", snn.AllToAll(weights=0.05), synapse=snn.Delta())  # one forced spike
    net.probe("n")
    net.probe("n", "b")
    result = snn.Simulator(net, dt=dt, progress=False).run(0.5)
    spikes = result.spikes["n"][0]
    assert spikes.size == 1
    trace = result.traces["n_b"]
    after = trace.t > spikes[0] + dt
    b = trace.values[after, 0]
    t = trace.t[after]
    rho = np.exp(-dt / tau_adapt)
    # jump of (1 - rho) at the spike, then b(t) = (1 - rho) exp(-(t - t_jump) / tau_adapt)
    t_jump = spikes[0] + dt
    np.testing.assert_allclose(b, (1 - rho) * np.exp(-(t - t_jump) / tau_adapt), rtol=1e-9)
    assert np.all(trace.values[trace.t <= spikes[0], 0] == 0.0)


def test_alif_adaptation_raises_threshold_and_lowers_rate():
    current = 0.04
    plain = single_population(snn.LIF(tau_ref=2e-3), [current], 1.0, 1e-4)
    # b averages about rate * dt (~0.005 here), so beta = 3 V raises the threshold ~15 mV
    adaptive = single_population(snn.ALIF(tau_ref=2e-3, tau_adapt=0.2, beta=3.0), [current], 1.0, 1e-4)
    plain_isi = np.diff(plain.spikes["n"][0])
    adaptive_isi = np.diff(adaptive.spikes["n"][0])
    assert np.ptp(plain_isi) < 1.01e-4  # regular
    assert adaptive_isi[-1] > 1.5 * adaptive_isi[0]  # intervals lengthen as b builds up


@pytest.mark.parametrize("delay_steps", [1, 7, 30])
def test_delay_shifts_postsynaptic_spikes_by_exactly_the_delay(delay_steps):
    dt = 1e-4
    input_times = [0.005, 0.012, 0.0305, 0.05]

    def post_spikes(delay):
        net = snn.Network()
        net.add(snn.SpikeSource(name="in", size=1, times=input_times, ids=[0] * 4))
        net.add(snn.Population(name="n", size=3, model=snn.LIF(tau_ref=1e-3)))
        # one weight strong enough to fire at once, others through exponential synapses
        net.connect("in", "n", snn.Sparse(pre=[0], post=[0], weights=0.05, delays=delay), synapse=snn.Delta())
        net.connect(
            "in",
            "n",
            snn.Sparse(pre=[0, 0], post=[1, 2], weights=[0.5, 0.3], delays=delay),
            synapse=snn.Exponential(tau_syn=3e-3),
        )
        net.probe("n")
        return snn.Simulator(net, dt=dt, progress=False).run(0.1).spikes["n"]

    t0, ids0 = post_spikes(0.0)
    t1, ids1 = post_spikes(delay_steps * dt)
    assert t0.size >= 4 and ids0.tolist() == ids1.tolist()
    np.testing.assert_allclose(t1 - t0, delay_steps * dt, atol=1e-12)


def test_heterogeneous_delays_through_ring_buffer():
    dt = 1e-4
    delays_steps = np.array([0, 3, 3, 12, 40])
    net = snn.Network()
    net.add(snn.SpikeSource(name="in", size=1, times=[0.002], ids=[0]))
    net.add(snn.Population(name="n", size=5, model=snn.LIF()))
    net.connect(
        "in",
        "n",
        snn.Sparse(pre=[0] * 5, post=range(5), weights=0.05, delays=delays_steps * dt),
        synapse=snn.Delta(),
    )
    net.probe("n")
    times, ids = snn.Simulator(net, dt=dt, progress=False).run(0.02).spikes["n"]
    by_neuron = dict(zip(ids.tolist(), times.tolist(), strict=True))
    # input in step 20 -> post neuron fires in step 20 + d + 1
    for neuron, d in enumerate(delays_steps):
        assert by_neuron[neuron] == pytest.approx((20 + d + 1) * dt, abs=1e-12)


def test_reset_by_subtraction_keeps_the_overshoot():
    model = snn.IF(v_reset=0.0, v_th=1.0, reset="subtract")
    net = snn.Network()
    net.add(snn.Population(name="n", size=1, model=model))
    net.inject(snn.Current.constant("n", 0.3))  # C = 1 F, dt = 1 s: +0.3 V per step
    net.probe("n")
    net.probe("n", "v")
    result = snn.Simulator(net, dt=1.0, progress=False).run(9.0)
    v = result.traces["n_v"].values[:, 0]
    np.testing.assert_allclose(v, np.mod(0.3 * np.arange(1, 10), 1.0), atol=1e-12)
    np.testing.assert_array_equal(result.spikes["n"][0], [3.0, 6.0])  # steps 3 and 6 cross 1 V


def test_poisson_source_mean_rate():
    rates = np.linspace(5.0, 50.0, 500)
    duration = 2.0
    net = snn.Network()
    net.add(snn.Population(name="sink", size=1, model=snn.LIF()))
    net.add(snn.PoissonSource(name="p", size=rates.size, rate=rates))
    net.probe("p")
    counts = snn.Simulator(net, dt=1e-4, seed=3, progress=False).run(duration).spike_counts("p")
    expected = rates * duration
    assert abs(counts.sum() - expected.sum()) < 4 * np.sqrt(expected.sum())
    # Poisson counts: the variance equals the mean (dispersion index near 1)
    dispersion = np.mean((counts - expected) ** 2 / expected)
    assert 0.8 < dispersion < 1.2


@pytest.mark.parametrize(
    "tau_mem, tau_syn, dt",
    [
        (1e-7, 5e-3, 1e-4),  # stiff membrane: expm1(1000) overflowed, v was NaN from step 0
        (5e-3, 1e-7, 1e-4),  # stiff synapse
        # |spread| = dt |tau_syn - tau_mem| / (tau_mem tau_syn) = 1 at dt = 1e-4 / 15e-3 s
        (20e-3, 5e-3, 0.999 * 1e-4 / 15e-3),  # just below: the expm1 branch
        (20e-3, 5e-3, 1.001 * 1e-4 / 15e-3),  # just above: the plain difference
    ],
)
def test_exponential_synapse_coefficient_matches_the_closed_form_in_every_regime(tau_mem, tau_syn, dt):
    mpmath = pytest.importorskip("mpmath")
    from snn.build import channel_coefficients

    mpmath.mp.dps = 50
    ts, tm, h = mpmath.mpf(tau_syn), mpmath.mpf(tau_mem), mpmath.mpf(dt)
    expected = float(2.0 * ts / (ts - tm) * (mpmath.exp(-h / ts) - mpmath.exp(-h / tm)))
    _, got = channel_coefficients(
        snn.LIF(tau_mem=tau_mem, resistance=2.0), snn.Exponential(tau_syn=tau_syn), dt
    )
    assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-13)


def test_stiff_membrane_with_exponential_synapse_runs_finite():
    net = snn.Network("stiff")
    net.add(snn.SpikeSource(name="in", size=1, times=[0.0], ids=[0]))
    net.add(snn.Population(name="n", size=1, model=snn.LIF(tau_mem=1e-7, v_rest=0.0, v_reset=0.0, v_th=1.0)))
    net.connect("in", "n", snn.AllToAll(weights=1.0), synapse=snn.Exponential(tau_syn=5e-3))
    net.probe("n", "v")
    v = snn.Simulator(net, dt=1e-4, progress=False).run(0.01).traces["n_v"].values[:, 0]
    assert np.all(np.isfinite(v))
    # tau_mem << dt: v follows R * I_syn(t) = exp(-t / tau_syn) almost instantly
    assert v[1] == pytest.approx(np.exp(-1e-4 / 5e-3), rel=1e-3)
