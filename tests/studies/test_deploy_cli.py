"""`snn simulate --backend` and `snn deploy` as a user runs them (subprocess, exit codes, files)."""

import json
import os
import subprocess
import sys

import pytest

from tests.studies.test_cli import ROOT, SUMMARY_KEYS, snn_cli

pytest.importorskip("brian2")


def test_simulate_on_brian2_gives_the_numba_summary(tmp_path):
    summaries = {}
    for backend in ("numba", "brian2-numpy"):
        out = tmp_path / backend
        done = snn_cli(
            "simulate", ROOT / "examples" / "poisson_driven.toml", "--backend", backend, "--duration", "0.2",
            "--out", out, "--no-progress",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        summaries[backend] = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summaries["brian2-numpy"])
    assert summaries["brian2-numpy"]["backend"] == "brian2-numpy"
    # the adapter replays the reference's Poisson draws: the same spikes, so the same summary
    assert summaries["brian2-numpy"]["spikes"] == summaries["numba"]["spikes"] > 100
    assert summaries["brian2-numpy"]["cv_isi"] == pytest.approx(summaries["numba"]["cv_isi"], rel=1e-12)


def test_deploy_numba_round_trips_through_simulate(tmp_path):
    out = tmp_path / "deployed"
    done = snn_cli("deploy", ROOT / "examples" / "poisson_driven.toml", "--backend", "numba", "--out", out)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".snn-output",
        "mapping_report.json",
        "mapping_report.md",
        "model.toml",
    ]
    runs = []
    for model in (ROOT / "examples" / "poisson_driven.toml", out / "model.toml"):
        target = tmp_path / f"run{len(runs)}"
        done = snn_cli("simulate", model, "--duration", "0.1", "--out", target, "--no-progress")
        assert done.returncode == 0, done.stderr
        runs.append(json.loads((target / "summary.json").read_text()))
    assert runs[0]["spikes"] == runs[1]["spikes"]


def test_deploy_lists_backends_and_refuses_unknown_ones(tmp_path):
    listed = snn_cli("deploy", "--list")
    assert listed.returncode == 0 and "brian2-standalone" in listed.stdout and "nir" in listed.stdout
    done = snn_cli("deploy", "--backend", "loihi", "--out", tmp_path / "x")
    assert done.returncode == 2
    assert "unknown backend 'loihi'" in done.stderr and "known: numba, brian2" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()


@pytest.mark.parametrize("option", [["--float32"], ["--threads", "2"]])
def test_simulate_numba_options_are_for_numba_only(tmp_path, option):
    done = snn_cli("simulate", "--backend", "brian2-numpy", *option, "--out", tmp_path / "x")
    assert done.returncode == 2 and option[0] in done.stderr and not (tmp_path / "x").exists()


def test_deploy_nengo_writes_a_script_that_runs(tmp_path):
    pytest.importorskip("nengo")
    import snn
    from snn.config import save_toml

    net = snn.Network("small")
    net.add(snn.PoissonSource(name="in", size=20, rate=100.0))
    net.add(snn.Population(name="lif", size=10, model=snn.LIF(tau_ref=1e-3)))
    net.connect("in", "lif", snn.FixedProbability(p=0.5, weight=0.02), snn.Exponential(tau_syn=5e-3))
    net.probe("lif")
    save_toml(net, tmp_path / "small.toml")
    out = tmp_path / "deployed"
    done = snn_cli("deploy", tmp_path / "small.toml", "--backend", "nengo", "--out", out, "--duration", "0.1")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".snn-output", "mapping_report.json", "mapping_report.md", "model.toml", "run_nengo.py",
    ]  # fmt: skip
    ran = subprocess.run([sys.executable, "run_nengo.py"], cwd=out, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    rate = float(ran.stdout.split("lif:")[1].split("Hz")[0])
    assert rate > 5.0  # the input drives the population


def test_deploy_refuses_before_writing(tmp_path):
    # the example has synaptic delays, which nengo cannot express: exit 2 and no directory
    out = tmp_path / "x"
    done = snn_cli("deploy", ROOT / "examples" / "poisson_driven.toml", "--backend", "nengo", "--out", out)
    assert done.returncode == 2 and "does not support synaptic delays" in done.stderr
    assert not out.exists()


def test_deploy_again_into_the_same_directory_and_nir_round_trip(tmp_path):
    import snn
    from snn.config import save_toml

    net = snn.Network("small")
    net.add(snn.SpikeSource(name="in", size=4, times=[0.001, 0.002, 0.004], ids=[0, 1, 2]))
    net.add(
        snn.Population(name="lif", size=3, model=snn.LIF(tau_ref=0.0, v_rest=0.0, v_reset=0.0, v_th=0.01))
    )
    net.connect("in", "lif", snn.AllToAll(weights=0.012))
    net.probe("lif")
    save_toml(net, tmp_path / "small.toml")
    for _ in range(2):  # the second run replaces the C++ project's subdirectories whole
        done = snn_cli("deploy", tmp_path / "small.toml", "--backend", "brian2", "--out", tmp_path / "cpp",
                       "--duration", "0.01")  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "cpp" / "main.cpp").is_file()
    done = snn_cli("deploy", tmp_path / "small.toml", "--backend", "nir", "--out", tmp_path / "nir")
    assert done.returncode == 0, done.stderr
    graph = tmp_path / "nir" / "small.nir"
    assert graph.is_file() and (tmp_path / "nir" / "mapping_report.md").is_file()
    # the graph runs as it is; its Input port carries no spikes of its own (NIR stores none),
    # so the population stays silent: the NIR backend's runs feed the original input instead
    done = snn_cli("simulate", graph, "--duration", "0.01", "--out", tmp_path / "run", "--no-progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["neurons"] == 3 and summary["dt_s"] == 1e-4 and summary["spikes"] == 0
