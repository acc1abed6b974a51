import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snn

README = Path(__file__).resolve().parents[2] / "README.md"


def test_import_snn_is_light():
    code = (
        "import sys, time; t = time.perf_counter(); import snn; elapsed = time.perf_counter() - t; "
        "heavy = [m for m in ('numba', 'torch', 'tensorflow', 'brian2', 'nengo', 'matplotlib') "
        "if m in sys.modules]; "
        "print(elapsed, heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    elapsed, heavy = output.split(" ", 1)
    assert heavy.strip() == "[]"
    assert float(elapsed) < 1.0


def test_readme_tour_runs(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    blocks = [b.split("```", 1)[0] for b in README.read_text().split("```python\n")[1:]]
    assert len(blocks) == 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0].replace("sim.run(0.5)", "sim.run(0.2)"), "README.md", "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, snn.Result)
    assert result.spikes["exc"][0].size > 0
    assert result.traces["readout_v"].values.shape == (2000, 2)

    pytest.importorskip("torch")
    bridge: dict = {}
    exec(compile(blocks[1], "README.md", "exec"), bridge)
    torch_spikes = bridge["out"][:, 0, :].detach().numpy()
    times, ids = bridge["result"].spikes["layer0"]
    assert np.count_nonzero(torch_spikes) == times.size > 0

    lsnn: dict = {}
    exec(compile(blocks[2], "README.md", "exec"), lsnn)
    assert lsnn["spikes"].shape == (16, 2000, 20) and lsnn["spikes"].sum() > 0
    assert np.isfinite(lsnn["grads"].loss) and "readout" in lsnn["net"].populations

    learning: dict = {}
    exec(compile(blocks[3].replace("sim.run(100.0)", "sim.run(2.0)"), "README.md", "exec"), learning)
    learned = learning["result"].weights["inputs_out"]
    assert learned.shape == (1000,) and np.array_equal(learning["w"], learned)
    assert not learning["static"].projections[0].plasticity

    htm: dict = {}
    exec(compile(blocks[4], "README.md", "exec"), htm)
    assert htm["anomaly"] == 0.0 and htm["memory"].n_segments > 0
    assert (tmp_path / "tm.npz").stat().st_size > 0

    games: dict = {}
    exec(compile(blocks[6], "README.md", "exec"), games)
    assert games["name"] == "acgd" and games["game"].distance() < 1e-3

    sparse: dict = {}
    exec(compile(blocks[7], "README.md", "exec"), sparse)
    fista_objective, spiking_objective = lasso_objective_of(sparse)
    assert 0 <= spiking_objective / fista_objective - 1 < 0.01


def lasso_objective_of(namespace: dict) -> tuple[float, float]:
    """The LASSO objectives of the README block's FISTA and spiking codes."""
    from snn.lca import lasso_objective

    both = np.stack([namespace["codes"], namespace["spiking"]])
    return tuple(lasso_objective(namespace["dictionary"], namespace["signal"], both, 0.1))
