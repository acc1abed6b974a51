"""`snn simulate x.nir --input SPIKES.npz [--nir-convention ...]` on a graph written by snnTorch."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("snntorch")
from studies.cli import main  # noqa: E402
from tests.hardware.test_nir_producers import DT, frames, snntorch_graph, snntorch_run  # noqa: E402


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nir")
    path = folder / "snntorch.nir"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snntorch_graph("LIF chain", path)
        theirs = snntorch_run(path, frames())
    np.savez(folder / "input.npz", input=frames().astype(np.int64))
    return path, folder / "input.npz", theirs


def test_simulate_runs_a_producers_graph_on_given_spikes(graph, tmp_path, capsys):
    path, spikes, theirs = graph
    flags = [
        "--nir-convention",
        "snntorch",
        "--dt",
        str(DT),
        "--json",
        str(tmp_path / "s.json"),
        "--no-progress",
    ]
    code = main(["simulate", str(path), "--input", str(spikes), *flags, "--out", str(tmp_path / "o")])
    assert code == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["duration_s"] == pytest.approx(theirs.shape[0] * DT)
    assert summary["rates_hz"]["3"] * summary["duration_s"] * theirs.shape[1] == pytest.approx(theirs.sum())
    assert "warning" not in capsys.readouterr().err  # the convention was given


def test_without_a_convention_it_warns_in_one_line(graph, tmp_path, capsys):
    path, spikes, _ = graph
    assert (
        main(["simulate", str(path), "--input", str(spikes), "--out", str(tmp_path / "o"), "--no-progress"])
        == 0
    )
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x]
    assert line.startswith("snn simulate: warning: this NIR graph does not say who wrote it")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--backend", "nengo"], "--input: runs on the numba backend only"),
        (["--duration", "0.01"], "--duration: must be the input's 3000 steps"),
        (["--nir-convention", "lava"], "invalid choice"),
    ],
)
def test_bad_nir_options_are_one_line_and_exit_2(graph, tmp_path, capsys, extra, message):
    path, spikes, _ = graph
    assert main(["simulate", str(path), "--input", str(spikes), *extra, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_input_arrays_must_name_the_ports(graph, tmp_path, capsys):
    path, _, _ = graph
    np.savez(tmp_path / "wrong.npz", other=np.zeros((10, 5), dtype=np.int64))
    assert (
        main(["simulate", str(path), "--input", str(tmp_path / "wrong.npz"), "--out", str(tmp_path / "o")])
        == 2
    )
    err = capsys.readouterr().err
    assert "missing ['input']" in err and "unknown ['other']" in err


def test_more_than_one_spike_per_step_is_refused(graph, tmp_path, capsys):
    path, _, _ = graph
    np.savez(tmp_path / "two.npz", input=np.full((10, 5), 2, dtype=np.int64))
    assert (
        main(["simulate", str(path), "--input", str(tmp_path / "two.npz"), "--out", str(tmp_path / "o")]) == 2
    )
    assert "inputs.input: must hold 0 or 1 spike per channel and step" in capsys.readouterr().err


def test_the_conventions_flag_offers_every_producer():
    # simulate.py lists the names itself so that building the parser does not import nir
    from hardware.nir_fields import PRODUCERS
    from studies.cli.simulate import PRODUCER_NAMES

    assert sorted(PRODUCER_NAMES) == sorted(PRODUCERS)
