"""Memory bombs are refused in one line before anything is allocated, under ``ulimit -v``."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import time

import pytest

LIMIT = 4 * 2**30

PRELUDE = textwrap.dedent(
    """
    import sys
    import snn
    from snn.resources import ResourceLimit

    def pop(name, size):
        return snn.Population(name=name, size=size, model=snn.LIF())

    def run(net, duration=0.001, probe=True):
        if probe:
            net.probe(next(iter(net.populations)))
        try:
            snn.Simulator(net, dt=1e-4, progress=False).run(duration)
        except ResourceLimit as exc:
            print("REFUSED", exc)
            sys.exit(3)
        print("RAN")
    """
)

BOMBS = {
    "all_to_all_1e6": """
        net = snn.Network(); net.add(pop("a", 10**6))
        net.connect("a", "a", snn.AllToAll(weights=1e-3)); run(net)""",
    "fixed_probability_p1_1e6": """
        net = snn.Network(); net.add(pop("a", 10**6))
        net.connect("a", "a", snn.FixedProbability(p=1.0, weight=1e-3)); run(net)""",
    "fixed_in_degree_1e12": """
        net = snn.Network(); net.add(pop("a", 10**6))
        net.connect("a", "a", snn.FixedInDegree(in_degree=10**6, weight=1e-3)); run(net)""",
    "poisson_1e10": """
        net = snn.Network(); net.add(pop("a", 10))
        net.add(snn.PoissonSource(name="in", size=10**10, rate=1.0)); run(net)""",
    "population_3e9": """
        net = snn.Network(); net.add(pop("a", 3 * 10**9)); run(net, probe=False)""",
    "probe_1e9_steps": """
        net = snn.Network(); net.add(pop("a", 100)); net.probe("a", "v"); run(net, duration=1e5)""",
}

SMALL = """
    net = snn.Network(); net.add(snn.PoissonSource(name="in", size=100, rate=20.0)); net.add(pop("a", 1000))
    net.connect("in", "a", snn.FixedProbability(p=0.1, weight=1e-3, delay=1e-3)); run(net, duration=0.05)"""


def _guarded(body: str) -> str:
    """The body with any ResourceLimit (from a constructor too) turned into exit 3."""
    inner = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    return f"try:\n{inner}\nexcept ResourceLimit as exc:\n    print('REFUSED', exc)\n    sys.exit(3)\n"


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _run(body: str, limit=True):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + _guarded(body)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit if limit else None,
    )
    return proc, time.perf_counter() - start


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_refused_quickly_under_ulimit(name):
    proc, seconds = _run(BOMBS[name])
    assert proc.returncode == 3, proc.stdout + proc.stderr[-2000:]
    assert "REFUSED" in proc.stdout and "MemoryError" not in proc.stderr
    assert seconds < 20


def test_small_network_still_runs_under_the_same_limit():
    proc, _ = _run(SMALL)
    assert proc.returncode == 0 and "RAN" in proc.stdout, proc.stderr[-2000:]


def test_address_space_limit_counts():
    """A 2 GiB network fits free RAM here but not under ulimit -v 4 GiB."""
    from snn.resources import ResourceLimit, _meminfo_available, require

    free = _meminfo_available()
    if free is None or free < 4 * 2**30:
        pytest.skip("needs > 4 GiB free RAM to tell the two limits apart")
    require(3.5 * 2**30 * 0.5, "fits RAM")  # no limit: fine
    body = """
        from snn.resources import require
        try:
            require(3.5 * 2**30, "three and a half GiB", "x")
        except ResourceLimit as exc:
            print("REFUSED", exc); sys.exit(3)
        print("RAN")"""
    proc, _ = _run(body)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert ResourceLimit is not None


def test_bench_refuses_ten_million_neurons_before_building(tmp_path):
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "studies.cli", "bench", "cuba", "--neurons", "10000000"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "--neurons" in proc.stderr and "needs about" in proc.stderr
    assert time.perf_counter() - start < 20
