"""The nengo-dl 3.6 / TensorFlow 2.16+ shim: nengo_dl imports and really simulates."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("nengo")
pytest.importorskip("tf_keras")


def test_import_hardware_stays_light():
    code = "import hardware, sys; print(sorted(m for m in ('tensorflow', 'nengo_dl') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_nengo_dl_imports_with_legacy_keras():
    from hardware.tf_compat import import_nengo_dl

    nengo_dl = import_nengo_dl()
    import keras
    import tensorflow as tf

    assert nengo_dl.__version__.startswith("3.")
    assert tf.keras.__name__.startswith("tf_keras")  # TF_USE_LEGACY_KERAS took effect
    assert keras.layers.BatchNormalizationV2 is tf.keras.layers.BatchNormalization
    assert import_nengo_dl() is nengo_dl


def test_tiny_nengo_dl_simulation_matches_closed_form():
    """A constant 1 through nengo.Lowpass(tau) is 1 - exp(-t / tau) sampled a step late
    (zero-order hold), computed by TensorFlow in nengo_dl.Simulator."""
    from hardware.tf_compat import import_nengo_dl

    nengo_dl = import_nengo_dl()
    import nengo

    dt, tau, steps = 1e-3, 10e-3, 50
    with nengo.Network() as net:
        nengo_dl.configure_settings(dtype="float64")
        stimulus = nengo.Node([1.0])
        probe = nengo.Probe(stimulus, synapse=nengo.Lowpass(tau))
    with nengo_dl.Simulator(net, dt=dt, progress_bar=False, device="/cpu:0") as sim:
        sim.run_steps(steps)
        values = sim.data[probe][:, 0]
    t = np.arange(steps) * dt  # the filter sees the first input at the end of step 1
    np.testing.assert_allclose(values, -np.expm1(-t / tau), atol=1e-12)
