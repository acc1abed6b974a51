import subprocess
import sys
from pathlib import Path

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
    text = README.read_text()
    tour = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(tour.replace("sim.run(0.5)", "sim.run(0.2)"), "README.md", "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, snn.Result)
    assert result.spikes["exc"][0].size > 0
    assert result.traces["readout_v"].values.shape == (2000, 2)
