"""The torch mirrors of AdEx and Izhikevich follow the Numba steps spike for spike (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snn
from ann_bridge import nonlinear
from ann_bridge.surrogate import surrogate

DT = 1e-4
STEPS = 3000

CASES = {
    "adex": (snn.AdEx(), np.linspace(0.3e-9, 1.5e-9, 6), nonlinear.adex_step, "w"),
    "adex-substeps": (
        snn.AdEx(substeps=4, v_peak=0.0),
        np.linspace(0.3e-9, 1.5e-9, 6),
        nonlinear.adex_step,
        "w",
    ),
    "izhikevich": (snn.Izhikevich(), np.linspace(0.004, 0.02, 6), nonlinear.izhikevich_step, "u"),
    "izhikevich-chattering": (
        snn.Izhikevich(c=-50e-3, d=2e-3),
        np.linspace(0.004, 0.02, 6),
        nonlinear.izhikevich_step,
        "u",
    ),
}


def numba_run(model, currents, second):
    net = snn.Network()
    net.add(snn.Population(name="n", size=currents.size, model=model))
    net.inject(snn.Current.constant("n", currents))
    net.probe("n")
    net.probe("n", variable="v", name="v")
    net.probe("n", variable=second, name="w")
    result = snn.Simulator(net, dt=DT, progress=False).run(STEPS * DT)
    times, ids = result.spikes["n"]
    spikes = np.zeros((STEPS, currents.size))
    spikes[np.rint(times / DT).astype(int), ids] = 1.0
    return spikes, result.traces["v"].values, result.traces["w"].values


@pytest.mark.parametrize("case", CASES)
def test_torch_mirror_matches_numba_spike_for_spike(case):
    model, currents, step, second = CASES[case]
    spikes, v_ref, w_ref = numba_run(model, currents, second)
    assert spikes.sum() > 3 * currents.size  # every neuron fires several times
    current = torch.tensor(currents[None, :], dtype=torch.float64)
    v, w = nonlinear.initial_state(model, (1, currents.size))
    spike_fn = surrogate("fast_sigmoid")
    zs, vs, ws = [], [], []
    for _ in range(STEPS):
        z, v, w = step(v, w, current, model, DT, spike_fn)
        zs.append(z[0].numpy())
        vs.append(v[0].numpy())
        ws.append(w[0].numpy())
    np.testing.assert_array_equal(np.array(zs), spikes)
    np.testing.assert_allclose(np.array(vs), v_ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.array(ws), w_ref, rtol=1e-9, atol=1e-21)


@pytest.mark.parametrize("case", ["adex", "izhikevich"])
def test_surrogate_gradient_reaches_the_input(case):
    model, currents, step, _ = CASES[case]
    current = torch.tensor(currents[None, :], dtype=torch.float64, requires_grad=True)
    v, w = nonlinear.initial_state(model, (1, currents.size))
    spike_fn = surrogate("fast_sigmoid")
    total = 0.0
    for _ in range(400):
        z, v, w = step(v, w, current, model, DT, spike_fn)
        total = total + z.sum()
    total.backward()
    grad = current.grad.numpy()
    assert total.item() > 0 and np.all(np.isfinite(grad)) and np.any(grad > 0)
