"""`snn simulate` on a TOML network that learns: weights saved, reported, bad rules refused."""

from __future__ import annotations

import json

import numpy as np

import snn
from studies.cli import main

CONFIG = """
[network]
name = "stdp-demo"

[[population]]
name = "out"
size = 10
model = "LIF"
params = { v_rest = 0.0, v_reset = 0.0, v_th = 1.0, tau_mem = 0.02, tau_ref = 0.0 }

[[source]]
name = "inputs"
type = "PoissonSource"
size = 100
rate = 20.0

[[projection]]
name = "learn"
pre = "inputs"
post = "out"
connectivity = { type = "FixedProbability", p = 0.5, weight = 0.05 }
plasticity = { type = "PairSTDP", a_plus = A_PLUS, a_minus = 0.00525, w_max = 0.1 }

[[probe]]
target = "out"

[[probe]]
target = "learn"
variable = "weights"
every = 100
"""


def test_a_learning_network_runs_and_saves_its_weights(tmp_path, capsys):
    config = tmp_path / "stdp.toml"
    config.write_text(CONFIG.replace("A_PLUS", "0.005"))
    assert (
        main(["simulate", str(config), "--duration", "1", "--no-progress", "--out", str(tmp_path / "o")]) == 0
    )
    assert "weights learn" in capsys.readouterr().out
    result = snn.Result.load(tmp_path / "o" / "spikes.npz")
    learned = result.weights["learn"]
    assert learned.size > 300 and not np.allclose(learned, 0.05)
    assert result.traces["learn_weights"].values.shape == (100, learned.size)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["learned_weights"]["learn"]["mean"] == float(learned.mean())


def test_a_bad_rule_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "stdp.toml"
    config.write_text(CONFIG.replace("A_PLUS", "-0.005"))
    assert main(["simulate", str(config), "--no-progress", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "snn simulate: error: stdp.toml: projection[0].plasticity.a_plus: must be >= 0, got -0.005"
    assert not (tmp_path / "o").exists()
