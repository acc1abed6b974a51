"""Several worker threads step one network together; the result must not depend on how many."""

import numpy as np
import pytest

import snn
from snn.examples import CubaParameters, cuba
from snn.simulator import NEURONS_PER_THREAD, default_threads


def _mixed_network() -> snn.Network:
    """Populations whose sizes do not divide evenly among workers, every input kind (Poisson,
    rate windows, given spikes, constant / step / array currents), both synapse kinds, delays
    and probes of every variable on neurons spread over the workers."""
    rng = np.random.default_rng(4)
    net = snn.Network()
    net.add(snn.PoissonSource(name="noise", size=30, rate=80.0))
    net.add(snn.RateEncoder(name="rates", values=rng.random((3, 16)), max_rate=150.0, window=0.05))
    net.add(snn.SpikeSource(name="given", size=4, times=[0.01, 0.02, 0.02, 0.1], ids=[0, 1, 3, 2]))
    init = snn.Uniform(low=-0.07, high=-0.05)
    net.add(snn.Population(name="lif", size=301, model=snn.LIF(tau_ref=2e-3), initial_v=init))
    alif = snn.ALIF(tau_ref=1e-3, tau_adapt=0.05, beta=0.002, reset="subtract")
    net.add(snn.Population(name="alif", size=77, model=alif, initial_v=init))
    net.add(snn.Population(name="if", size=13, model=snn.IF(capacitance=1.0, v_th=0.01, tau_ref=0.0)))
    net.add(snn.Population(name="readout", size=5, model=snn.LI(tau_mem=0.01)))
    net.connect("noise", "lif", snn.FixedProbability(p=0.3, weight=4e-3, delay=1e-3))
    net.connect("rates", "lif", snn.FixedInDegree(in_degree=4, weight=3e-3), snn.Exponential(tau_syn=5e-3))
    net.connect("given", "if", snn.FixedProbability(p=1.0, weight=0.02))
    net.connect("lif", "lif", snn.FixedProbability(p=0.05, weight=-1e-3, delay=2.5e-3))
    net.connect("lif", "alif", snn.FixedProbability(p=0.1, weight=2e-3), snn.Exponential(tau_syn=3e-3))
    net.connect("alif", "lif", snn.FixedInDegree(in_degree=5, weight=1e-3, delay=1e-4))
    net.connect("lif", "if", snn.FixedProbability(p=0.05, weight=0.05), snn.Exponential(tau_syn=2e-3))
    net.connect("alif", "readout", snn.AllToAll(weights=rng.normal(0, 1e-3, (77, 5))))
    net.inject(snn.Current.step("alif", times=[0.02, 0.05], amplitudes=[0.005, 0.0]))
    net.inject(snn.Current.constant("if", 0.02, neurons=[0, 12]))
    net.inject(snn.Current.array("lif", rng.normal(0.0, 2e-3, (8, 301)), interval=0.02))
    for node in ("lif", "alif", "if", "noise", "rates", "given"):
        net.probe(node)
    net.probe("lif", "v", neurons=[0, 150, 151, 300], every=3)
    net.probe("lif", "i_syn", every=2)
    net.probe("lif", "i_ext", neurons=[10, 299])
    net.probe("alif", "b")
    net.probe("readout", "v")
    return net


def _run(net, threads, seed=3, duration=0.15, chunks=1):
    sim = snn.Simulator(net, dt=1e-4, seed=seed, progress=False, threads=threads)
    runs = [sim.run(duration / chunks) for _ in range(chunks)]
    return sim, runs


@pytest.mark.parametrize("threads", [2, 3])
def test_workers_give_bit_identical_results(threads):
    net = _mixed_network()
    _, (serial,) = _run(net, 1)
    sim, (parallel,) = _run(net, threads)
    # more workers than free cores may fall back to one mid-run (same result)
    assert sim.threads == threads and parallel.metadata["threads"] in (1, threads)
    for node in ("lif", "alif", "if", "noise", "rates", "given"):
        assert serial.spikes[node][0].size > 3, node
    assert parallel.equals(serial)


def test_float32_workers_give_bit_identical_results():
    # the same split-by-worker sums in single precision: any thread count, the same bits
    net = _mixed_network()
    runs = [snn.Simulator(net, dt=1e-4, seed=3, progress=False, threads=t, dtype="float32").run(0.15)
            for t in (1, 2)]  # fmt: skip
    assert runs[0].metadata["dtype"] == "float32" and runs[0].traces["lif_v"].values.dtype == np.float32
    for node in ("lif", "alif", "noise"):
        assert runs[0].spikes[node][0].size > 3, node
    assert runs[1].equals(runs[0])


def test_workers_continue_across_runs_and_growing_spike_record():
    """Split runs and a spike record that must grow mid-run (CUBA fires far more than the
    first capacity of 4 spikes per node) give the serial result."""
    net = cuba(CubaParameters(n_neurons=4000, p=0.02))
    _, serial = _run(net, 1, duration=2.0, chunks=2)
    _, parallel = _run(net, 2, duration=2.0, chunks=2)
    assert all(r.spikes["exc"][0].size + r.spikes["inh"][0].size > 4 * 4000 for r in serial)
    for one, other in zip(serial, parallel, strict=True):
        assert other.equals(one)


def test_falling_back_to_one_worker_mid_run_changes_nothing(monkeypatch):
    import snn.simulator
    import snn.workers

    net = _mixed_network()
    _, (serial,) = _run(net, 1)
    monkeypatch.setattr(snn.simulator, "CONTENTION_CHECK_STEPS", 100)
    monkeypatch.setattr(snn.workers, "MIN_BUSY_FRACTION", 2.0)  # every check finds the cores busy
    sim, (fallen,) = _run(net, 2)
    assert fallen.metadata["threads"] == 1 and sim.threads == 2
    assert fallen.equals(serial)
    monkeypatch.setattr(snn.workers, "MIN_BUSY_FRACTION", 0.0)
    # the next run starts on both workers again (150 steps: too short for a trial on one)
    assert sim.run(0.015).metadata["threads"] == 2


def test_switching_between_one_and_all_workers_every_few_blocks_changes_nothing(monkeypatch):
    """Every trial wins and every block calls for a new one, so the run alternates between one
    and three workers every few dozen steps; the spikes and traces must still be the serial ones."""
    import snn.simulator
    import snn.workers

    net = _mixed_network()
    _, (serial,) = _run(net, 1)
    monkeypatch.setattr(snn.simulator, "CONTENTION_CHECK_STEPS", 50)
    monkeypatch.setattr(snn.simulator, "TRIAL_STEPS", 30)
    monkeypatch.setattr(snn.workers, "WIN_FRACTION", 1e9)
    counts = []
    record = snn.workers.WorkerChoice.record

    def logged(self, steps_done, seconds):
        counts.append(self._planned[0])
        record(self, steps_done, seconds)

    monkeypatch.setattr(snn.workers.WorkerChoice, "record", logged)
    _, (switching,) = _run(net, 3)
    assert counts.count(1) >= 5 and counts.count(3) >= 5
    assert switching.equals(serial)


def _blocks(choice, remaining, seconds_per_step, slower_two_from=None):
    """Drive ``choice`` through a run of ``remaining`` steps whose blocks take
    ``seconds_per_step[count]`` per step (two workers 3x slower from block
    ``slower_two_from`` on); returns the (count, steps) of every block."""
    plans = []
    while remaining > 0:
        count, steps = choice.plan(remaining)
        slowdown = (
            3.0 if count == 2 and slower_two_from is not None and len(plans) >= slower_two_from else 1.0
        )
        plans.append((count, steps))
        choice.record(steps, steps * seconds_per_step[count] * slowdown)
        remaining -= steps
    return plans


def test_worker_choice_moves_to_one_worker_when_a_trial_on_one_is_faster():
    from snn.workers import RECHECK_BLOCKS, WorkerChoice, Workers

    with Workers(2) as workers:
        choice = WorkerChoice(workers, block=100, trial=25)
        plans = _blocks(choice, 100 * (RECHECK_BLOCKS + 4), {2: 2e-6, 1: 1e-6})
    # the first block (threads starting) is not judged; after the second, a trial on one
    assert plans[:4] == [(2, 100), (2, 100), (1, 25), (1, 100)]
    assert choice.count == 1
    # on one worker from then on, until the recheck tries both again (and stays on one)
    recheck = 3 + RECHECK_BLOCKS
    assert {count for count, _ in plans[3:recheck]} == {1}
    assert plans[recheck] == (2, 25) and {count for count, _ in plans[recheck + 1 :]} == {1}


@pytest.mark.parametrize("one_worker_seconds", [2e-6, 0.95e-6])  # clearly slower; a little faster
def test_worker_choice_stays_on_all_workers_unless_one_is_clearly_faster(one_worker_seconds):
    from snn.workers import RECHECK_BLOCKS, WorkerChoice, Workers

    with Workers(2) as workers:
        choice = WorkerChoice(workers, block=100, trial=25)
        plans = _blocks(choice, 100 * (RECHECK_BLOCKS + 4), {2: 1e-6, 1: one_worker_seconds})
    trials = [i for i, (count, _) in enumerate(plans) if count == 1]
    assert trials == [2, 3 + RECHECK_BLOCKS] and plans[2] == (1, 25)
    assert choice.count == 2


def test_worker_choice_judges_only_whole_blocks_after_the_first():
    from snn.workers import WorkerChoice, Workers

    with Workers(2) as workers:
        choice = WorkerChoice(workers, block=100, trial=25)
        for _ in range(5):  # blocks cut short (the spike record grew): no trial
            assert choice.plan(1000) == (2, 100)
            choice.record(60, 60e-6)
        assert choice.plan(1000) == (2, 100)
        choice.record(100, 100e-6)
        assert choice.plan(1000) == (1, 25)
    with Workers(1) as workers:  # nothing to choose between
        choice = WorkerChoice(workers, block=100, trial=25)
        assert {count for count, _ in _blocks(choice, 10_000, {1: 1e-6})} == {1}


def test_default_threads_follow_network_size():
    assert default_threads(NEURONS_PER_THREAD - 1) == 1
    assert default_threads(10**7) >= 1
    with pytest.raises(snn.ValidationError, match="Simulator.threads"):
        snn.Simulator(_mixed_network(), threads=0)


def test_a_failing_worker_aborts_the_others_instead_of_hanging():
    """Worker 1 fails before reaching the kernel: worker 0 must leave its first barrier and
    the error must come out of Workers.run (watched from a daemon thread, so a hang fails)."""
    import threading

    from snn.kernels import reservoir as kernels
    from snn.reservoir import ESN
    from snn.workers import Workers, even_split

    esn = ESN(units=50, spectral_radius=0.9, leak=0.5)
    weights = esn.initial_weights(n_inputs=1, seed=0)
    arguments = (*esn._kernel_weights(weights), np.zeros((1, 20, 1)), np.zeros((1, 20, 0)), np.zeros((1, 50)))
    states = np.zeros((1, 20, 50))
    outcome = []

    def work(worker):
        if worker == 1:
            raise RuntimeError("worker 1 failed")
        return kernels.run_share(worker, even_split(50, 2), pool.sync, *arguments, states)

    def watched():
        try:
            pool.run(work)
        except RuntimeError as error:
            outcome.append(str(error))

    with Workers(2) as pool:
        watcher = threading.Thread(target=watched, daemon=True)
        watcher.start()
        watcher.join(timeout=60)
        assert not watcher.is_alive(), "the workers hung"
    assert outcome == ["worker 1 failed"]


def test_worker_choice_tries_again_when_the_current_choice_slows_down():
    from snn.workers import WorkerChoice, Workers

    with Workers(2) as workers:
        choice = WorkerChoice(workers, block=100, trial=25)
        plans = _blocks(choice, 2000, {2: 1e-6, 1: 2e-6}, slower_two_from=6)
    # two workers win the first trial; from block 6 they take 3e-6 s per step, slower than
    # the trial on one (2e-6): the next block is a trial on one, which wins
    assert plans[:7] == [(2, 100), (2, 100), (1, 25), (2, 100), (2, 100), (2, 100), (2, 100)]
    assert plans[7] == (1, 25) and choice.count == 1
