"""Reward-modulated STDP learns a two-pattern discrimination (after Izhikevich 2007,
"Solving the distal reward problem through linkage of STDP and dopamine signaling").

Each trial shows one of two input patterns (two disjoint groups of Poisson inputs) to two
output neurons that inhibit each other. The output that fires more is the network's
answer; at the end of the trial a dopamine pulse of +1 (right) or -1 (wrong) reaches every
input synapse, and :class:`snn.plasticity.RewardSTDP` turns the synapses' eligibility
(what STDP would have done during the trial) into weight changes. With the reward
shuffled (+1 or -1 at random) nothing ties the weights to the answer and the accuracy
stays at chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import snn
from snn.plasticity import RewardSTDP


@dataclass(frozen=True, kw_only=True)
class DiscriminationTask:
    """Sizes, rates and times of the task (SI units; membrane units are V with v_th 1 V)."""

    inputs_per_pattern: int = 20
    rate: float = 40.0  # Hz, an active input's rate
    trial: float = 0.1  # s, one pattern shown, then as long a silence (the reward arrives at its start)
    trials: int = 1200
    w_start: tuple[float, float] = (0.05, 0.1)  # initial weights, uniform (V)
    w_max: float = 0.2
    inhibition: float = -0.5  # V, each output's spike onto the other
    noise_rate: float = 100.0  # Hz, each output's background input
    noise_weight: float = 0.2  # V
    expectation_rate: float = 0.1  # how fast the expected reward follows the rewards
    learning_rate: float = 0.075
    dt: float = 1e-4


def _network(task: DiscriminationTask, patterns: np.ndarray, seed: int) -> snn.Network:
    n_in = 2 * task.inputs_per_pattern
    rows = np.zeros((2 * patterns.size, n_in))
    for k, pattern in enumerate(patterns):
        first = pattern * task.inputs_per_pattern
        rows[2 * k, first : first + task.inputs_per_pattern] = 1.0  # then a silent row: the gap
    net = snn.Network("reward-discrimination")
    # rows alternate trial / gap; RateEncoder shows each for one window, so the gap equals the trial
    net.add(snn.RateEncoder(name="inputs", values=rows, max_rate=task.rate, window=task.trial))
    model = snn.LIF(v_rest=0.0, v_reset=0.0, v_th=1.0, tau_mem=20e-3, tau_ref=2e-3)
    net.add(snn.Population(name="out", size=2, model=model))
    rng = np.random.default_rng(seed)
    pre, post = np.meshgrid(np.arange(n_in), np.arange(2), indexing="ij")
    rule = RewardSTDP(
        a_plus=1.0,
        a_minus=1.0,
        tau_c=0.1,
        tau_dopamine=0.05,
        learning_rate=task.learning_rate,
        w_max=task.w_max,
    )
    net.connect(
        "inputs",
        "out",
        snn.Sparse(pre=pre.ravel(), post=post.ravel(), weights=rng.uniform(*task.w_start, pre.size)),
        plasticity=rule,
        name="learn",
    )
    net.connect("out", "out", snn.Sparse(pre=[0, 1], post=[1, 0], weights=task.inhibition), name="inhibit")
    # each output's own background noise, so that equal drive does not give equal answers
    net.add(snn.PoissonSource(name="noise", size=2, rate=task.noise_rate))
    net.connect("noise", "out", snn.Sparse(pre=[0, 1], post=[0, 1], weights=task.noise_weight), name="noise")
    net.probe("out")
    return net


def run_discrimination(
    task: DiscriminationTask | None = None, seed: int = 0, shuffle_reward: bool = False
) -> dict:
    """Run the task; returns ``correct`` (bool per trial), the answers, the patterns and the
    final weights ((inputs, outputs) matrix)."""
    task = task or DiscriminationTask()
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, 2, task.trials)
    sim = snn.Simulator(_network(task, patterns, seed), dt=task.dt, seed=seed, progress=False)
    answers = np.full(task.trials, -1)
    expected = 0.0  # running mean of the reward: dopamine signals the surprise, reward - expected
    for k, pattern in enumerate(patterns):
        counts = sim.run(task.trial).spike_counts("out")
        # the output that fired more answers; a tie is a guess
        answers[k] = int(np.argmax(counts)) if counts[0] != counts[1] else int(rng.integers(0, 2))
        right = answers[k] == pattern
        reward = rng.choice([-1.0, 1.0]) if shuffle_reward else (1.0 if right else -1.0)
        sim.reward("learn", reward - expected)
        expected += task.expectation_rate * (reward - expected)
        sim.run(task.trial)
    pre, post, w = sim.weights("learn")
    matrix = np.zeros((2 * task.inputs_per_pattern, 2))
    matrix[pre, post] = w
    return {"correct": answers == patterns, "answers": answers, "patterns": patterns, "weights": matrix}
