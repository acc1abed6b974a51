"""Resource bombs are refused in seconds with one line, also under `ulimit -v` (issue 14).

Each case runs in a subprocess under a 4 GiB address-space limit (RLIMIT_AS), as the
issue's reproduction did: without the estimate, these grew until MemoryError or the
kernel's OOM killer.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4 * 2**30

PRELUDE = "import snn\nnet = snn.Network('bomb')\n"
CASES = {
    "esn-1e7-units": "from snn.reservoir import ESN\nESN(units=10**7).initial_weights(1)",
    "poisson-1e10": "net.add(snn.PoissonSource(name='s', size=10**10, rate=1.0))",
    "v-probe-1e9-steps": (
        "net.add(snn.Population(name='p', size=100, model=snn.LIF()))\n"
        "net.probe('p', 'v')\n"
        "snn.Simulator(net, dt=1e-4, progress=False).run(1e5)"
    ),
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "2"},
        timeout=120,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_bomb_is_refused_with_a_resource_limit(case):
    started = time.perf_counter()
    done = _python(
        PRELUDE
        + "try:\n    "
        + CASES[case].replace("\n", "\n    ")
        + "\nexcept snn.ValidationError as e:\n    print('REFUSED', type(e).__name__, e)\n"
    )
    assert "REFUSED ResourceLimit" in done.stdout, done.stderr[-2000:]
    assert "needs about" in done.stdout and "available" in done.stdout
    assert time.perf_counter() - started < 60


def test_cli_duration_bomb_exits_2_quickly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "studies.cli", "simulate", "--duration", "100000", "--no-progress",
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, preexec_fn=_limited, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "needs about" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_the_limit_counts_not_only_free_ram():
    # 3 GiB fits in this machine's RAM but not under a 2 GiB address-space limit
    code = (
        "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))\n"
        "from snn import resources\n"
        "try:\n    resources.require(3 * 2**30, 'a test block')\n    print('ALLOWED')\n"
        "except resources.ResourceLimit as e:\n    print('REFUSED', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert "REFUSED" in done.stdout, done.stdout + done.stderr


def test_a_small_network_still_runs_under_the_limit():
    done = _python(
        PRELUDE + "net.add(snn.PoissonSource(name='s', size=10, rate=50.0))\n"
        "net.add(snn.Population(name='p', size=20, model=snn.LIF()))\n"
        "net.connect('s', 'p', snn.AllToAll(weights=0.02))\nnet.probe('p', 'v')\n"
        "r = snn.Simulator(net, dt=1e-4, progress=False).run(0.2)\nprint('RAN', r.traces['p_v'].values.shape)"
    )
    assert "RAN (2000, 20)" in done.stdout, done.stderr[-2000:]
