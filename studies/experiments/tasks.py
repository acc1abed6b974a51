"""Sequence tasks for LSNNs, generated offline from a seed (time step 1 ms).

Every task yields :class:`Batch` es of spike inputs ``x`` (batch, T, n_in) in {0, 1}, one-hot
targets (batch, T, n_out), a loss mask (batch, T) whose rows sum to 1 over the decision
window, and integer labels. The network's decision is the class with the largest readout
summed over that window.

* ``store-recall`` (Bellec et al. 2018, Fig. 2): 40 channels in four groups of 10
  (value 0, value 1, store, recall); each 200 ms symbol shows a random bit on its value
  group at 50 Hz; a store command accompanies one early symbol and a recall command a later
  one (delays 400-1400 ms); during the recall symbol the readout must give the stored bit.
* ``evidence`` (Bellec et al. 2020, Fig. 3): four groups of 10 channels (left cues, right
  cues, recall, 10 Hz background noise); 7 cues of 100 ms at 40 Hz separated by 50 ms,
  each from the trial's favoured side (left or right, even odds) with probability 0.7,
  then a 1050 ms delay and a 150 ms recall period in which the readout must name the
  side that had more cues.
* ``delayed-xor``: two 100 ms cues 300-600 ms apart, each a bit shown on its own pair of
  8-channel groups (first cue: groups 0/1, second: 2/3) at 40 Hz, then a 150 ms recall
  period (group 4) in which the readout must give their XOR; 10 Hz noise channels.
* ``mnist1d``: each of MNIST-1D's 40 samples (standardised) is one 1 ms step, coded by
  which of 32 level bins it falls in (one channel spikes per step), plus 8 clock channels
  (channel ``c`` spikes during the ``c``-th eighth of the sequence: a position code, as
  ANNs get from the index); a 10 ms silent tail follows, over which the class is read out.
* ``digits``: scikit-learn's 8 x 8 digits row by row, 5 ms per row; each pixel (0-16)
  drives 4 channels, channel ``l`` spiking every step while the pixel exceeds ``4 l``, and
  8 clock channels mark which row is shown (without them the LSNN stays near 88 %); a
  10 ms silent tail is the decision window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from snn.errors import ValidationError

TASKS = ("store-recall", "evidence", "delayed-xor", "mnist1d", "digits")


@dataclass(frozen=True)
class Batch:
    x: np.ndarray  # (batch, T, n_in) 0/1
    target: np.ndarray  # (batch, T, n_out) one-hot
    mask: np.ndarray  # (batch, T), each row sums to 1 over the decision window
    labels: np.ndarray  # (batch,) int


@dataclass(frozen=True)
class Task:
    """A task and the LSNN / training settings used for it (paper values where given)."""

    name: str
    n_in: int
    n_out: int
    sample: Callable[[np.random.Generator, int], Batch]  # (rng, batch size) -> training batch
    test: Callable[[np.random.Generator], Batch]  # (rng) -> the test set
    validation: Callable[[np.random.Generator], Batch]  # (rng) -> held-out data for model selection
    lsnn: dict = field(default_factory=dict)  # LSNN fields
    input_gain: float = 1.0
    recurrent_gain: float = 1.0
    iterations: int = 500
    batch_size: int = 64
    learning_rate: float = 3e-3
    final_lr_fraction: float = 0.1  # the learning rate decays exponentially to this fraction
    reg_rate: float = 1e-3
    target_rate: float = 10.0


def accuracy(outputs: np.ndarray, batch: Batch) -> float:
    """Fraction of sequences whose mask-weighted summed readout picks the label."""
    scores = np.einsum("btk,bt->bk", outputs, batch.mask)
    return float(np.mean(scores.argmax(axis=1) == batch.labels))


def _poisson(rng: np.random.Generator, active: np.ndarray, rate_hz: float, dt: float = 1e-3) -> np.ndarray:
    """0/1 spikes where ``active`` (bool, any shape) with probability ``rate * dt`` per step."""
    return (active & (rng.random(active.shape) < rate_hz * dt)).astype(np.float64)


def _one_hot(labels: np.ndarray, steps: int, n_out: int, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Targets (batch, T, n_out) and a mask that spreads weight 1 evenly over ``window``
    (batch, T) bool."""
    target = np.zeros((labels.size, steps, n_out))
    target[np.arange(labels.size), :, labels] = 1.0
    mask = window / window.sum(axis=1, keepdims=True)
    return target, mask


def _groups(active: np.ndarray, per_group: int = 10) -> np.ndarray:
    """(batch, T, groups) bool -> (batch, T, groups * per_group) channels."""
    return np.repeat(active, per_group, axis=2)


def store_recall(rng: np.random.Generator, size: int, symbols: int = 10, symbol_ms: int = 200) -> Batch:
    steps = symbols * symbol_ms
    bits = rng.integers(0, 2, (size, symbols))
    store = rng.integers(0, 3, size)
    recall = store + rng.integers(2, symbols - 2, size)
    recall = np.minimum(recall, symbols - 1)
    symbol_of_step = np.arange(steps) // symbol_ms
    rows = np.arange(size)[:, None]
    active = np.zeros((size, steps, 4), dtype=bool)
    active[:, :, 0] = bits[rows, symbol_of_step] == 0
    active[:, :, 1] = bits[rows, symbol_of_step] == 1
    active[:, :, 2] = symbol_of_step[None, :] == store[:, None]
    active[:, :, 3] = symbol_of_step[None, :] == recall[:, None]
    labels = bits[np.arange(size), store]
    window = symbol_of_step[None, :] == recall[:, None]
    target, mask = _one_hot(labels, steps, 2, window)
    return Batch(_poisson(rng, _groups(active), 50.0), target, mask, labels)


def evidence(rng: np.random.Generator, size: int, cues: int = 7, delay_ms: int = 1050) -> Batch:
    cue_ms, gap_ms, recall_ms = 100, 50, 150
    cue_start = np.arange(cues) * (cue_ms + gap_ms)
    recall_start = cues * (cue_ms + gap_ms) + delay_ms
    steps = recall_start + recall_ms
    # each trial favours one side: its cues come from that side with probability 0.7 (the
    # paper's code uses p_group = 0.3 / 0.7); the label is the side that actually had more
    favoured_left = rng.random((size, 1)) < 0.5
    left = np.where(favoured_left, rng.random((size, cues)) < 0.7, rng.random((size, cues)) < 0.3)
    t = np.arange(steps)
    active = np.zeros((size, steps, 4), dtype=bool)
    for c in range(cues):
        during = (t >= cue_start[c]) & (t < cue_start[c] + cue_ms)
        active[:, during, 0] = left[:, c : c + 1]
        active[:, during, 1] = ~left[:, c : c + 1]
    window = np.broadcast_to(t >= recall_start, (size, steps))
    active[:, :, 2] = window
    labels = (left.sum(axis=1) * 2 < cues).astype(np.int64)  # 0: more left cues, 1: more right
    spikes = _poisson(rng, _groups(active[:, :, :3]), 40.0)
    noise = _poisson(rng, np.ones((size, steps, 10), dtype=bool), 10.0)
    target, mask = _one_hot(labels, steps, 2, window.copy())
    return Batch(np.concatenate([spikes, noise], axis=2), target, mask, labels)


def delayed_xor(rng: np.random.Generator, size: int) -> Batch:
    cue_ms, recall_ms, max_delay = 100, 150, 600
    delays = rng.integers(300, max_delay + 1, size)
    steps = 50 + cue_ms + max_delay + cue_ms + 50 + recall_ms
    first, second = rng.integers(0, 2, size), rng.integers(0, 2, size)
    t = np.arange(steps)[None, :]
    on_first = (t >= 50) & (t < 50 + cue_ms)
    second_start = 50 + cue_ms + delays[:, None]
    on_second = (t >= second_start) & (t < second_start + cue_ms)
    window = np.broadcast_to(t >= steps - recall_ms, (size, steps))
    active = np.zeros((size, steps, 5), dtype=bool)  # groups: first 0/1, second 0/1, recall
    active[:, :, 0] = on_first & (first[:, None] == 0)
    active[:, :, 1] = on_first & (first[:, None] == 1)
    active[:, :, 2] = on_second & (second[:, None] == 0)
    active[:, :, 3] = on_second & (second[:, None] == 1)
    active[:, :, 4] = window
    labels = first ^ second
    spikes = _poisson(rng, _groups(active, 8), 40.0)
    noise = _poisson(rng, np.ones((size, steps, 10), dtype=bool), 10.0)
    target, mask = _one_hot(labels, steps, 2, window.copy())
    return Batch(np.concatenate([spikes, noise], axis=2), target, mask, labels)


def _sequences(values: np.ndarray, labels: np.ndarray, n_classes: int, tail: int) -> Batch:
    """Append a silent decision tail to spike sequences (n, T, channels)."""
    size, steps, channels = values.shape
    x = np.concatenate([values, np.zeros((size, tail, channels))], axis=1)
    window = np.zeros((size, steps + tail), dtype=bool)
    window[:, steps:] = True
    target, mask = _one_hot(labels, steps + tail, n_classes, window)
    return Batch(x, target, mask, labels)


MNIST1D_LEVELS = 32
CLOCK_CHANNELS = 8


def _clock(size: int, steps: int, phases: int = CLOCK_CHANNELS) -> np.ndarray:
    """(size, steps, phases) one-hot position code: channel ``c`` spikes during the ``c``-th
    of ``phases`` equal parts of the sequence."""
    phase = np.arange(steps) * phases // steps
    return np.broadcast_to(np.eye(phases)[phase], (size, steps, phases))


def mnist1d_spikes(x: np.ndarray, levels: int = MNIST1D_LEVELS, bound: float = 2.5) -> np.ndarray:
    """(n, 40) standardised samples -> (n, 40, levels + 8): one-hot level bins over
    ``[-bound, bound]``, then the 8 clock channels."""
    bins = np.clip(np.floor((x + bound) / (2 * bound) * levels), 0, levels - 1).astype(np.int64)
    return np.concatenate([np.eye(levels)[bins], _clock(len(x), x.shape[1])], axis=2)


def digits_spikes(x: np.ndarray, row_ms: int = 5) -> np.ndarray:
    """(n, 64) pixels in [0, 1] -> (n, 8 row_ms, 40) spikes: row ``r`` is shown during steps
    ``[r row_ms, (r + 1) row_ms)``; pixel ``p`` of the row drives channels ``4 p + l``
    (l = 0..3), channel ``4 p + l`` spiking every step while the pixel (0-16) exceeds
    ``4 l``; channels 32-39 are the clock, channel ``32 + r`` spiking during row ``r``."""
    pixels = np.round(x * 16).reshape(-1, 8, 8)
    levels = (pixels[..., None] > 4 * np.arange(4)).reshape(-1, 8, 32).astype(np.float64)
    levels = np.repeat(levels, row_ms, axis=1)
    return np.concatenate([levels, _clock(len(x), levels.shape[1])], axis=2)


def _dataset_task(
    name: str, classes: tuple[int, ...] | None = None
) -> tuple[Callable, Callable, Callable, int, int]:
    from studies.experiments.datasets import load, restrict

    data = load(name, seed=0)
    if classes is not None:  # only these classes, relabelled 0..len(classes) - 1
        data = restrict(data, classes)
    x_train, y_train = data.x_train, data.y_train
    encode = encoder(name)
    x_train, x_test = encode(x_train), encode(data.x_test)

    def sample(rng: np.random.Generator, size: int) -> Batch:
        pick = rng.integers(0, len(x_train), size)
        return _sequences(x_train[pick], y_train[pick], data.n_classes, tail=10)

    def test(rng: np.random.Generator) -> Batch:
        return _sequences(x_test, data.y_test, data.n_classes, tail=10)

    def validation(rng: np.random.Generator) -> Batch:
        return _sequences(encode(data.x_val), data.y_val, data.n_classes, tail=10)  # small: encode on use

    return sample, test, validation, x_test.shape[2], data.n_classes


def encoder(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The spike encoding of dataset ``name``'s samples that its LSNN task reads."""
    return mnist1d_spikes if name == "mnist1d" else digits_spikes


def _fixed_test(generator: Callable, size: int = 512) -> Callable[[np.random.Generator], Batch]:
    return lambda rng: generator(rng, size)


def get(name: str, classes: tuple[int, ...] | None = None) -> Task:
    """The task ``name`` (one of :data:`TASKS`) with its default settings; ``classes``: for
    the dataset tasks (digits, mnist1d), only those classes (relabelled in the given order)."""
    if name == "store-recall":
        return Task(name, 40, 2, store_recall, _fixed_test(store_recall), _fixed_test(store_recall, 256),
                    lsnn=dict(n_lif=10, n_alif=10, tau_adapt=1.2), input_gain=2.0,
                    iterations=400, batch_size=64, learning_rate=1e-2)  # fmt: skip
    if name == "evidence":
        return Task(name, 40, 2, evidence, _fixed_test(evidence, 512), _fixed_test(evidence, 256),
                    lsnn=dict(n_lif=50, n_alif=50, tau_adapt=2.0), input_gain=2.0,
                    iterations=1000, batch_size=64, learning_rate=5e-3)  # fmt: skip
    if name == "delayed-xor":
        return Task(name, 50, 2, delayed_xor, _fixed_test(delayed_xor), _fixed_test(delayed_xor, 256),
                    lsnn=dict(n_lif=20, n_alif=20, tau_adapt=0.6), input_gain=2.0,
                    iterations=800, batch_size=64, learning_rate=1e-2)  # fmt: skip
    if name in ("mnist1d", "digits"):
        sample, test, validation, n_in, n_out = _dataset_task(name, classes)
        return Task(name, n_in, n_out, sample, test, validation,
                    lsnn=dict(n_lif=64, n_alif=64, tau_adapt=0.1, beta=0.15, tau_ref=0.0, tau_out=10e-3),
                    input_gain=1.0, iterations=1000 if name == "digits" else 2000, batch_size=64,
                    learning_rate=1e-2,
                    target_rate=40.0, reg_rate=1e-5)  # fmt: skip
    raise ValidationError("--task", f"must be one of {list(TASKS)}, got {name!r}")
