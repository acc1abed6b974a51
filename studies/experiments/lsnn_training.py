"""Training an LSNN on a task with e-prop, random e-prop or BPTT; one seed, one run.

The seed is split into independent streams (weights, training batches, random feedback);
the test set comes from a fixed stream shared by every seed, so seeds vary training only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from snn.errors import ValidationError
from snn.learning.eprop import Adam, EProp, gradients
from snn.lsnn import LSNN, LSNNWeights, initial_weights, run
from studies.experiments.tasks import Batch, Task, accuracy

RULES = ("eprop", "random-eprop", "bptt")
TEST_SEED = 10_000  # test and validation sets: fixed streams, the same for every seed
VALIDATION_SEED = 10_001


@dataclass
class TrainingRun:
    task: str
    rule: str
    seed: int
    lsnn: LSNN
    weights: LSNNWeights
    history: list[dict] = field(default_factory=list)  # per logged iteration
    cosines: list[dict] = field(default_factory=list)  # e-prop vs BPTT gradient similarity
    test_accuracy: float = float("nan")
    validation_accuracy: float = float("nan")  # of the kept weights
    best_iteration: int = 0
    train_seconds: float = 0.0  # the training loop alone: jit_seconds is not in it
    jit_seconds: float = 0.0  # Numba loading its cached kernels (or compiling them, the first time)
    steps_per_s: float = 0.0
    test_batch: Batch | None = None


def _load_kernels(lsnn: LSNN, weights: LSNNWeights, batch: Batch, dtype, eprop: tuple | None) -> float:
    """Seconds Numba takes to load (or compile) the kernels training calls, timed on one
    two-step sequence, so that ``train_seconds`` holds only training: a one-shot run's first
    call otherwise pays ~0.5-1 s of cache loading inside its first batch. ``eprop`` is
    ``(rule, feedback)`` for the e-prop rules, ``None`` for BPTT (torch; the forward pass of
    validation and test is still Numba's)."""
    started = time.perf_counter()
    x = batch.x[:1, :2]
    for kind in {np.dtype(dtype).type, np.float64}:  # validation in dtype, the test in float64
        run(lsnn, weights, x.astype(kind))
    if eprop is not None:
        mask = np.ones_like(batch.mask[:1, :2]) / 2  # a decision window over both steps
        gradients(eprop[0], lsnn, weights, x.astype(dtype), batch.target[:1, :2], mask, "softmax", eprop[1])
    return time.perf_counter() - started


def learning_rate_scales(lsnn: LSNN) -> dict[str, float]:
    """Spiking weights move in units of the threshold, the readout in its own units."""
    return {"w_in": lsnn.v_th, "w_rec": lsnn.v_th, "w_out": 1.0, "b_out": 1.0}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(np.sum(a * b) / norm) if norm > 0 else float("nan")


def initial_lsnn(task: Task, seed: int):
    """``task``'s LSNN, its initial weights for ``seed``, and the generators for its training
    data and random feedback (one seed split three ways, as every trainer here splits it)."""
    weight_rng, data_rng, feedback_rng = np.random.default_rng(seed).spawn(3)
    lsnn = LSNN(n_in=task.n_in, n_out=task.n_out, **task.lsnn)
    return (
        lsnn,
        initial_weights(lsnn, weight_rng, task.input_gain, task.recurrent_gain),
        data_rng,
        feedback_rng,
    )


def evaluate(lsnn: LSNN, weights: LSNNWeights, batch: Batch, chunk: int = 256, dtype=np.float64) -> float:
    """Accuracy on the Numba forward pass (in ``dtype``)."""
    outputs = [
        run(lsnn, weights, batch.x[i : i + chunk].astype(dtype))["y"] for i in range(0, len(batch.x), chunk)
    ]
    return accuracy(np.concatenate(outputs), batch)


def synaptic_ops(lsnn: LSNN, weights: LSNNWeights, batch: Batch, chunk: int = 256) -> float:
    """Spike-driven accumulates per sequence: every input spike reaches all N recurrent
    neurons; every recurrent spike its existing recurrent synapses and the ``n_out`` readouts."""
    fan_out = np.asarray(weights.mask).sum(axis=1) + lsnn.n_out  # per recurrent neuron
    total = float(batch.x.sum()) * lsnn.n_rec
    for i in range(0, len(batch.x), chunk):
        spikes = run(lsnn, weights, batch.x[i : i + chunk])["spikes"]
        total += float(spikes.sum(axis=(0, 1)) @ fan_out)
    return total / len(batch.x)


def train(
    task: Task,
    rule: str = "eprop",
    seed: int = 0,
    iterations: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    cosine_every: int = 0,
    log_every: int = 10,
    validate_every: int | None = None,
    progress: bool | None = None,
    dtype=np.float32,
) -> TrainingRun:
    """Train from scratch; ``cosine_every`` > 0 also computes the BPTT gradient on every
    ``cosine_every``-th e-prop batch and records the cosine similarity of the two (both in
    float64). ``dtype`` (float32 by default, for speed) is that of e-prop's kernels (inputs,
    weights, traces and gradients; the weights and Adam's moments stay float64) and of the
    validation forward passes; BPTT runs in float32 torch; the test accuracy is measured on
    the float64 Numba forward pass.

    Every ``validate_every`` batches (default: a tenth of the run) the weights are scored on
    the task's validation set; the best-scoring weights are kept and tested (model
    selection on held-out data; the test set is used once, at the end)."""
    if rule not in RULES:
        raise ValidationError("--rule", f"must be one of {list(RULES)}, got {rule!r}")
    iterations = task.iterations if iterations is None else iterations
    batch_size = task.batch_size if batch_size is None else batch_size
    learning_rate = task.learning_rate if learning_rate is None else learning_rate
    for name, value in (("--iterations", iterations), ("--batch", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValidationError(name, f"must be an integer >= 1, got {value!r}")
    if not learning_rate > 0:
        raise ValidationError("--lr", f"must be > 0, got {learning_rate}")
    lsnn, weights, data_rng, feedback_rng = initial_lsnn(task, seed)
    test_batch = task.test(np.random.default_rng(TEST_SEED))
    validation_batch = task.validation(np.random.default_rng(VALIDATION_SEED))
    validate_every = validate_every or max(1, iterations // 10)
    best = (-1.0, 0, weights)
    result = TrainingRun(task.name, rule, seed, lsnn, weights, test_batch=test_batch)
    eprop_rule = EProp(
        feedback="random" if rule == "random-eprop" else "symmetric",
        reg_rate=task.reg_rate,
        target_rate=task.target_rate,
    )
    feedback = eprop_rule.feedback_matrix(weights, feedback_rng) if rule == "random-eprop" else None
    step = _bptt_stepper(lsnn, weights, task, learning_rate) if rule == "bptt" else None
    adam = Adam(learning_rate, scales=learning_rate_scales(lsnn))
    result.jit_seconds = _load_kernels(
        lsnn, weights, validation_batch, dtype, None if step is not None else (eprop_rule, feedback)
    )
    bar = _progress(iterations, f"{task.name} {rule}", progress)
    started = time.perf_counter()
    for iteration in range(1, iterations + 1):
        # exponential decay to task.final_lr_fraction of the rate over the run
        decay = task.final_lr_fraction ** ((iteration - 1) / max(1, iterations - 1))
        batch = task.sample(data_rng, batch_size)
        if step is not None:
            loss, outputs, rates, weights = step(batch, learning_rate * decay)
        else:
            x = batch.x.astype(dtype)
            grads = gradients(eprop_rule, lsnn, weights, x, batch.target, batch.mask, "softmax", feedback)
            loss, outputs, rates = grads.loss, grads.outputs, grads.rates_hz
            if cosine_every and (iteration - 1) % cosine_every == 0:
                result.cosines.append(
                    _compare_with_bptt(iteration, lsnn, weights, batch, eprop_rule, feedback)
                )
            adam.learning_rate = learning_rate * decay
            weights = weights.replace(**adam.step(weights.arrays(), grads.arrays()))
        if iteration % validate_every == 0 or iteration == iterations:
            score = evaluate(lsnn, weights, validation_batch, dtype=dtype)
            if score > best[0]:
                best = (score, iteration, weights)
        if iteration % log_every == 0 or iteration in (1, iterations):
            result.history.append(
                {
                    "iteration": iteration,
                    "loss": loss,
                    "train_accuracy": accuracy(outputs, batch),
                    "rate_hz": float(np.mean(rates)),
                }
            )
            bar.set_postfix(loss=f"{loss:.3f}", acc=f"{result.history[-1]['train_accuracy']:.2f}")
        bar.update(1)
    bar.close()
    result.train_seconds = time.perf_counter() - started
    steps = iterations * batch_size * batch.x.shape[1]
    result.steps_per_s = steps / result.train_seconds
    result.validation_accuracy, result.best_iteration, result.weights = best
    result.test_accuracy = evaluate(lsnn, result.weights, test_batch)
    return result


def _compare_with_bptt(iteration, lsnn, weights, batch, rule: EProp, feedback) -> dict:
    """Cosine similarity of e-prop's and BPTT's gradients on one batch, both float64."""
    from ann_bridge.lsnn import bptt_gradients

    _, reference = bptt_gradients(lsnn, weights, batch.x, batch.target, batch.mask, "softmax",
                                  reg_rate=rule.reg_rate, target_rate=rule.target_rate)  # fmt: skip
    estimate = gradients(rule, lsnn, weights, batch.x, batch.target, batch.mask, "softmax", feedback).arrays()
    return {
        "iteration": iteration,
        **{name: _cosine(estimate[name], reference[name]) for name in ("w_in", "w_rec")},
        "all": _cosine(
            np.concatenate([estimate[n].ravel() for n in reference]),
            np.concatenate([reference[n].ravel() for n in reference]),
        ),
    }


def _bptt_stepper(lsnn: LSNN, weights: LSNNWeights, task: Task, learning_rate: float):
    """A closure doing one BPTT + Adam step in torch (float32, CPU or GPU)."""
    import torch

    from ann_bridge import device
    from ann_bridge.lsnn import LSNNModule, loss

    where = device()
    module = LSNNModule(lsnn, weights, dtype=torch.float32).to(where)
    scales = learning_rate_scales(lsnn)
    optimiser = torch.optim.Adam(
        [{"params": [getattr(module, name)], "lr": learning_rate * scales[name]} for name in scales]
    )
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32, device=where)  # noqa: E731

    def step(batch: Batch, rate: float):
        for group, name in zip(optimiser.param_groups, scales, strict=True):
            group["lr"] = rate * scales[name]
        optimiser.zero_grad()
        spikes, outputs = module(as_tensor(batch.x))
        value = loss(lsnn, spikes, outputs, as_tensor(batch.target), as_tensor(batch.mask), "softmax",
                     task.reg_rate, task.target_rate)  # fmt: skip
        value.backward()
        optimiser.step()
        with torch.no_grad():
            module.w_rec.mul_(module.mask)
        rates = spikes.detach().sum((0, 1)) / (spikes.shape[0] * spikes.shape[1] * lsnn.dt)
        return float(value.detach()), outputs.detach().cpu().numpy(), rates.cpu().numpy(), module.weights()

    return step


def _progress(total: int, label: str, enabled: bool | None):
    """A tqdm bar; ``enabled=None`` lets tqdm show it only on a terminal (as elsewhere here)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="batch", disable=None if enabled is None else not enabled,
                leave=False)  # fmt: skip
