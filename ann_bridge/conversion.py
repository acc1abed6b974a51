"""ANN -> SNN conversion (Rueckauer et al. 2017): a ReLU MLP becomes a network of
integrate-and-fire neurons with reset by subtraction, run on the Numba simulator.

Weights are normalised layer by layer with a robust (percentile) estimate of each layer's
maximum activation on training data, ``W_l <- W_l lambda_{l-1} / lambda_l`` and
``b_l <- b_l / lambda_l``, so a firing rate of one spike per step stands for activation
``lambda_l``. The input enters as a constant current (analog input); the output layer is a
non-spiking integrator whose potential after ``T`` steps is the class score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

import snn
from ann_bridge.baselines import MLP
from snn import validate
from snn.errors import ValidationError


@dataclass
class ConvertedMLP:
    """Normalised weights ``(n_in, n_out)`` and biases per layer, and the scales used."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    scales: list[float]

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]


@torch.no_grad()
def convert(mlp: MLP, x_train: np.ndarray, percentile: float = 99.9) -> ConvertedMLP:
    """Normalise ``mlp``'s weights with the ``percentile`` of each hidden layer's ReLU output."""
    if not 0 < percentile <= 100:
        raise ValidationError("percentile", f"must be in (0, 100], got {percentile}")
    validate.finite_array("x_train", x_train)
    linears = [m for m in mlp.net if isinstance(m, nn.Linear)]
    on = next(mlp.parameters()).device
    signal = torch.as_tensor(x_train, dtype=torch.float32, device=on)
    previous_scale = 1.0
    weights, biases, scales = [], [], []
    for index, linear in enumerate(linears):
        w = linear.weight.detach().double().cpu().numpy().T
        b = linear.bias.detach().double().cpu().numpy() if linear.bias is not None else np.zeros(w.shape[1])
        signal = linear(signal)
        if index < len(linears) - 1:
            signal = torch.relu(signal)
            scale = float(np.percentile(signal.cpu().numpy(), percentile))
            scale = scale if scale > 0 else 1.0
        else:
            scale = 1.0  # the output integrates; its scale does not change the argmax
        weights.append(w * previous_scale / scale)
        biases.append(b / scale)
        scales.append(scale)
        previous_scale = scale
    return ConvertedMLP(weights, biases, scales)


def neuron_model(dt: float) -> snn.IF:
    """The converted hidden neuron: IF with capacitance ``dt`` (+I per step per ampere),
    threshold 1, reset by subtraction."""
    return snn.IF(capacitance=dt, v_reset=0.0, v_th=1.0, reset="subtract")


def integrator_model(dt: float) -> snn.IF:
    """The converted output: the same IF that never fires (its potential is the score)."""
    return snn.IF(capacitance=dt, v_reset=0.0, v_th=1e30)


def to_network(converted: ConvertedMLP, x: np.ndarray, dt: float = 1e-3) -> snn.Network:
    """One network that runs every sample of ``x`` ``(batch, features)`` side by side:
    population ``h{l}`` holds ``batch x n_l`` neurons with block-diagonal weights."""
    x = validate.finite_array("x", x)
    batch = x.shape[0]
    neuron, integrator = neuron_model(dt), integrator_model(dt)
    net = snn.Network("converted_mlp")
    n_layers = len(converted.weights)
    for index, (w, b) in enumerate(zip(converted.weights, converted.biases, strict=True)):
        name = f"h{index}" if index < n_layers - 1 else "out"
        n_out = w.shape[1]
        net.add(snn.Population(name=name, size=batch * n_out, model=neuron if name != "out" else integrator))
        if index == 0:
            # analog input: the first layer's weighted input is a constant current
            net.inject(snn.Current.constant(name, (x @ w + b).ravel()))
            continue
        net.inject(snn.Current.constant(name, np.tile(b, batch)))
        n_in = w.shape[0]
        pre = (np.arange(batch)[:, None, None] * n_in + np.arange(n_in)[None, :, None]).repeat(n_out, 2)
        post = (np.arange(batch)[:, None, None] * n_out + np.arange(n_out)[None, None, :]).repeat(n_in, 1)
        net.connect(
            f"h{index - 1}",
            name,
            snn.Sparse(
                pre=pre.ravel(), post=post.ravel(), weights=np.broadcast_to(w, (batch, n_in, n_out)).ravel()
            ),
            synapse=snn.Delta(),
        )
        net.probe(f"h{index - 1}")
    net.probe("out", "v")
    return net


@dataclass
class ConvertedRun:
    """Accuracy and synaptic operations per sample at each number of timesteps."""

    accuracy: dict[int, float]
    synaptic_ops: dict[int, float]
    macs: int  # multiply-accumulates for the analog input layer, once per sample
    jit_seconds: float = 0.0  # the simulator's Numba loading/compiling, summed over the batches


def evaluate(
    converted: ConvertedMLP,
    x: np.ndarray,
    y: np.ndarray,
    timesteps: list[int],
    dt: float = 1e-3,
    batch_size: int = 400,
    seed: int = 0,
) -> ConvertedRun:
    """Run the converted network on the Numba simulator for ``max(timesteps)`` steps and read
    the class scores after each ``T`` in ``timesteps`` from the same run."""
    steps = sorted({validate.count("timesteps", t) for t in timesteps})
    if not steps:
        raise ValidationError("timesteps", "must list at least one number of steps")
    validate.count("batch_size", batch_size)
    x = validate.finite_array("x", x)
    if x.ndim != 2 or x.shape[1] != converted.weights[0].shape[0]:
        raise ValidationError("x", f"must have shape (n, {converted.weights[0].shape[0]}), got {x.shape}")
    if len(y) != len(x):
        raise ValidationError("y", f"must have one label per sample ({len(x)}), got {len(y)}")
    horizon = steps[-1]
    correct = {t: 0 for t in steps}
    events = {t: 0.0 for t in steps}
    fan_out = [w.shape[1] for w in converted.weights[1:]]
    jit_seconds = 0.0
    for begin in range(0, len(x), batch_size):
        xb, yb = x[begin : begin + batch_size], y[begin : begin + batch_size]
        result = snn.Simulator(to_network(converted, xb, dt), dt=dt, seed=seed, progress=False).run(
            horizon * dt
        )
        jit_seconds += result.metadata["compile_s"]
        scores = result.traces["out_v"].values.reshape(horizon, len(xb), -1)
        for t in steps:
            correct[t] += int(np.sum(scores[t - 1].argmax(1) == yb))
            for layer, width in enumerate(fan_out):
                times, _ = result.spikes[f"h{layer}"]
                events[t] += float(np.count_nonzero(times < t * dt - 1e-12)) * width
    n = len(x)
    macs = converted.weights[0].shape[0] * converted.weights[0].shape[1]
    accuracy = {t: correct[t] / n for t in steps}
    return ConvertedRun(accuracy, {t: events[t] / n for t in steps}, macs, jit_seconds)
