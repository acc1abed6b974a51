"""Continual learning: a sequence of tasks learned one after the other, then every earlier
task tested again ("sparse representations and catastrophic forgetting").

Classification: permuted digits (scikit-learn's 8 x 8 digits; task t permutes the 64 pixels
with its own fixed permutation, task 0 included), ``tasks`` tasks of the same 10 classes, each
trained for ``epochs`` epochs with Adam and never seen again. Methods, same widths:

- ``mlp``: two ReLU layers and a read-out, trained in sequence;
- ``mlp-replay``: the same with a replay buffer of ``replay`` samples per finished task,
  one replay batch mixed into every training batch;
- ``active-dendrites``: :class:`ann_bridge.dendrites.ActiveDendritesNetwork` with one
  segment per task and 5 % winners per layer; the context is the task's prototype (its mean
  training input), centred on the prototypes' mean and scaled to norm sqrt(features); at
  test time each sample takes the context of its nearest prototype (Iyer et al. 2022's
  prototype method), so no task label is given.

All methods: Adam (learning rate 3e-4), batches of 32, the same hidden width (2048 by default,
as Iyer et al.).

Sequences: the temporal memory learns ``tasks`` sets of high-order sequences one set after
the other (each set: two sequences sharing their middle elements, reset between them), then
is tested on every set (exact prediction of every predictable element).

Reported per method: accuracy on each task right after learning it and after the last task;
forgetting = mean over tasks but the last of (accuracy after learning it - accuracy at the end).

Measured (``snn sequence --task continual``: 10 tasks, 3 seeds, 5 epochs, width 2048;
``benchmarks/results/continual/``): mean final accuracy / forgetting: MLP 0.409 / 0.611,
MLP + replay 0.862 / 0.111, active dendrites 0.610 / 0.319, temporal memory 1.000 / 0.000.
Active dendrites forget about half as much as the MLP here, not as little as Iyer et al.
report on permuted MNIST (their 10-task accuracy is ~95 %); at small widths (256) they do not
help at all (their 5 % winners are then 13 units).
"""

from __future__ import annotations

import numpy as np

METHODS = ("mlp", "mlp-replay", "active-dendrites")


def _permuted_tasks(seed: int, tasks: int):
    from studies.experiments.datasets import load

    data = load("digits", seed=seed)
    rng = np.random.default_rng(seed)
    perms = [rng.permutation(data.n_features) for _ in range(tasks)]
    return data, perms


def _train_classifier(method: str, seed: int, tasks: int, epochs: int, hidden: int, replay: int) -> dict:
    import torch

    from ann_bridge import device
    from ann_bridge.dendrites import ActiveDendritesNetwork

    data, perms = _permuted_tasks(seed, tasks)
    torch.manual_seed(seed)
    where = device()
    x_train = [torch.tensor(data.x_train[:, p], device=where) for p in perms]
    x_test = [torch.tensor(data.x_test[:, p], device=where) for p in perms]
    y_train = torch.tensor(data.y_train, device=where)
    y_test = torch.tensor(data.y_test, device=where)
    prototypes = torch.stack([x.mean(dim=0) for x in x_train])
    contexts = prototypes - prototypes.mean(dim=0)
    contexts = contexts / contexts.norm(dim=1, keepdim=True) * data.n_features**0.5  # entries of about 1
    n_features, n_classes = data.n_features, data.n_classes
    if method == "active-dendrites":
        model = ActiveDendritesNetwork(n_features, hidden, n_classes, n_features, segments=tasks).to(where)
    else:
        model = torch.nn.Sequential(
            torch.nn.Linear(n_features, hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_classes),
        ).to(where)  # fmt: skip

    def forward(x: torch.Tensor, task: int | None) -> torch.Tensor:
        if method != "active-dendrites":
            return model(x)
        if task is None:  # infer the context: the nearest prototype of each sample
            context = contexts[torch.cdist(x, prototypes).argmin(dim=1)]
        else:
            context = contexts[task].expand(x.shape[0], -1)
        return model(x, context)

    def accuracy(task: int) -> float:
        with torch.no_grad():
            return float((forward(x_test[task], None).argmax(dim=1) == y_test).float().mean())

    optimiser = torch.optim.Adam(model.parameters(), lr=3e-4)
    generator = torch.Generator().manual_seed(seed)
    buffer_x: list[torch.Tensor] = []
    buffer_y: list[torch.Tensor] = []
    after_learning = []
    for task in range(tasks):
        n = x_train[task].shape[0]
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator).to(where)
            for start in range(0, n, 32):
                batch = order[start : start + 32]
                x, y = x_train[task][batch], y_train[batch]
                loss = torch.nn.functional.cross_entropy(forward(x, task), y)
                if method == "mlp-replay" and buffer_x:
                    old_x, old_y = torch.cat(buffer_x), torch.cat(buffer_y)
                    pick = torch.randint(0, old_x.shape[0], (32,), generator=generator).to(where)
                    loss = loss + torch.nn.functional.cross_entropy(model(old_x[pick]), old_y[pick])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        after_learning.append(accuracy(task))
        if method == "mlp-replay":
            keep = torch.randperm(n, generator=generator)[:replay].to(where)
            buffer_x.append(x_train[task][keep])
            buffer_y.append(y_train[keep])
    final = [accuracy(task) for task in range(tasks)]
    return {"after_learning": after_learning, "final": final}


def _train_sequences(seed: int, tasks: int, epochs: int) -> dict:
    from snn.htm import TemporalMemory, TemporalMemoryParameters
    from studies.experiments.sequences import _elements, _present

    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(tasks):
        shared = _elements(rng, 2)
        sets.append([(_elements(rng, 1) + shared + _elements(rng, 1), 2) for _ in range(2)])
    tm = TemporalMemory(TemporalMemoryParameters(predicted_segment_decrement=0.05, seed=seed + 1))
    after_learning = []
    for task in range(tasks):
        for _ in range(epochs):
            _present(tm, sets[task], learn=True)
        after_learning.append(_present(tm, sets[task], learn=False)["accuracy"])
    final = [_present(tm, sets[task], learn=False)["accuracy"] for task in range(tasks)]
    return {"after_learning": after_learning, "final": final}


def forgetting(run: dict) -> float:
    """Mean over every task but the last of (accuracy after learning it - final accuracy)."""
    drops = [a - f for a, f in zip(run["after_learning"][:-1], run["final"][:-1], strict=True)]
    return float(np.mean(drops)) if drops else 0.0


def continual(seeds: int = 3, tasks: int = 10, epochs: int = 5, hidden: int = 2048, replay: int = 50,
              sequence_epochs: int = 30, progress=None) -> dict:  # fmt: skip
    """Every method on every seed; returns per method the per-seed runs and the summary
    (mean final accuracy over tasks, mean forgetting, both averaged over seeds)."""
    runs: dict[str, list[dict]] = {name: [] for name in (*METHODS, "temporal-memory")}
    for seed in range(seeds):
        for method in METHODS:
            runs[method].append(_train_classifier(method, seed, tasks, epochs, hidden, replay))
            if progress is not None:
                progress(1)
        runs["temporal-memory"].append(_train_sequences(seed, tasks, sequence_epochs))
        if progress is not None:
            progress(1)
    summary = {
        name: {
            "final_accuracy_per_task": np.mean([r["final"] for r in rs], axis=0).tolist(),
            "mean_final_accuracy": float(np.mean([np.mean(r["final"]) for r in rs])),
            "mean_final_accuracy_std": float(np.std([np.mean(r["final"]) for r in rs])),
            "forgetting": float(np.mean([forgetting(r) for r in rs])),
            "forgetting_std": float(np.std([forgetting(r) for r in rs])),
        }
        for name, rs in runs.items()
    }
    return {"task": "continual", "seeds": seeds, "tasks": tasks, "epochs": epochs, "hidden": hidden,
            "replay_per_task": replay, "summary": summary, "runs": runs}  # fmt: skip
