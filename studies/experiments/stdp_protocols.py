"""Spike-pairing protocols for learning rules: one learning synapse, the postsynaptic
neuron made to spike at given steps, and the weight change that results.

The postsynaptic neuron (LIF, threshold 1 V, no refractory period) is driven by a strong
second source: a source spike in step ``k`` fires it in step ``k + 1``. The learning
synapse's own weight (1 mV) is far too small to move it, so the spike times are exactly
those asked for.
"""

from __future__ import annotations

import numpy as np

import snn

DT = 1e-4  # s
W0 = 1e-3  # V, the learning synapse's starting weight


def pair_network(
    pre_steps, post_steps, rule, delay_steps: int = 0, w0: float = W0, dt: float = DT
) -> snn.Network:
    """The protocol's network: presynaptic spikes at ``pre_steps``, postsynaptic at ``post_steps``."""
    net = snn.Network("pairing")
    pre_steps, post_steps = np.asarray(pre_steps), np.asarray(post_steps)
    net.add(snn.SpikeSource(name="pre", size=1, times=pre_steps * dt, ids=np.zeros(pre_steps.size, int)))
    net.add(
        snn.SpikeSource(name="drive", size=1, times=(post_steps - 1) * dt, ids=np.zeros(post_steps.size, int))
    )
    net.add(snn.Population(name="post", size=1, model=snn.LIF(v_rest=0, v_reset=0, v_th=1.0, tau_ref=0)))
    synapse = snn.Sparse(pre=[0], post=[0], weights=w0, delays=delay_steps * dt)
    net.connect("pre", "post", synapse, plasticity=rule, name="learn")
    net.connect("drive", "post", snn.Sparse(pre=[0], post=[0], weights=10.0))
    net.probe("post")
    return net


def weight_change(
    pre_steps, post_steps, rule, duration: float, delay_steps: int = 0, w0: float = W0
) -> float:
    """The learning synapse's weight change over the protocol (checks the spikes landed)."""
    simulator = snn.Simulator(
        pair_network(pre_steps, post_steps, rule, delay_steps, w0), dt=DT, progress=False
    )
    result = simulator.run(duration)
    fired = np.rint(result.spikes["post"][0] / DT).astype(int)
    if not np.array_equal(fired, post_steps):
        raise RuntimeError(f"the postsynaptic spikes landed at {fired.tolist()}, not {list(post_steps)}")
    return float(result.weights["learn"][0] - w0)


def pairing_protocol(rule, frequency: float, lag_ms: float, pairs: int = 60) -> float:
    """Pfister & Gerstner's (Sjostrom et al. 2001) protocol: ``pairs`` pre/post pairs at
    ``frequency`` (Hz), the post spike ``lag_ms`` after the pre spike; the weight change."""
    period = int(round(1.0 / frequency / DT))
    start = 1000
    pre = start + period * np.arange(pairs)
    post = pre + int(round(lag_ms * 1e-3 / DT))
    if lag_ms < 0:
        pre, post = pre - post[0] + start, post - post[0] + start
    duration = (max(pre[-1], post[-1]) + 2000) * DT
    return weight_change(list(pre), list(post), rule, duration, w0=0.0)
