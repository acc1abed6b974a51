"""NeuroBench's metrics for `snn compare`'s rows: the ``neurobench`` package on each torch
model (or its step-by-step twin, :mod:`ann_bridge.neurobench_twin`) beside our counters —
:mod:`snn.workload` on the Numba simulator's runs of the same network for the spiking
rows, :func:`ann_bridge.cost.ann_workload` for the ANNs — and how far apart they are.

Each ``*_metrics`` function returns ``{"neurobench": {...}, "ours": {...}, "ours_from": str,
"difference": {...}}`` under NeuroBench's names; ``difference`` holds, per metric both
sides count the same way, ``|ours - neurobench| / max(|neurobench|, tiny)``, and names the
ones whose definitions differ in ``not_compared`` with the reason.
"""

from __future__ import annotations

import numpy as np

#: metrics counted differently on purpose, per row kind: the reason shown beside them
STORAGE = "storage of a different representation (float64 CSR synapses vs float32 torch tensors)"
EXPANDED = "a convolution's synapses are expanded per position here, shared in torch's kernel"
ANALOG = (
    "NeuroBench counts the analog first layer's products at every step; the simulator "
    "takes it as a constant current (our cost model counts its MACs once)"
)


def _flat(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def difference(ours: dict, theirs: dict, not_compared: dict) -> dict:
    """Relative difference per metric both sides report, skipping ``not_compared``."""
    mine, peer = _flat(ours), _flat(theirs)
    rel = {}
    for key in sorted(set(mine) & set(peer)):
        if key in not_compared:
            continue
        a, b = float(mine[key]), float(peer[key])
        rel[key] = abs(a - b) / max(abs(b), 1e-12) if (a or b) else 0.0
    return {"relative": rel, "max": max(rel.values(), default=0.0), "not_compared": dict(not_compared)}


def _report(theirs: dict, ours: dict, ours_from: str, not_compared: dict) -> dict:
    return {
        "neurobench": theirs,
        "ours": ours,
        "ours_from": ours_from,
        "difference": difference(ours, theirs, not_compared),
    }


def _counted(networks, steps: int, dt: float) -> dict:
    """Our counters (:mod:`snn.workload`, static and workload) over one Numba run of
    ``steps`` per network of ``networks`` (the same network, one sample's input each)."""
    from snn import Simulator, workload

    results, network = [], None
    for network in networks:
        workload.probe_for_workload(network)
        results.append(Simulator(network, dt=dt, progress=False).run(steps * dt))
    return {**workload.static_metrics(network, dt), **workload.workload_metrics(network, results, dt)}


def ann_metrics(net, x: np.ndarray, y: np.ndarray) -> dict:
    """An ANN baseline: NeuroBench on the model as it is, ours from forward hooks."""
    import torch

    from ann_bridge import cost, neurobench_twin

    dtype = next(net.parameters()).dtype
    theirs = neurobench_twin.metrics(net, torch.as_tensor(x, dtype=dtype), torch.as_tensor(y))
    return _report(
        theirs, cost.ann_workload(net, x), "ann_bridge.cost.ann_workload (torch forward hooks)", {}
    )


def spiking_metrics(model, x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """A directly trained spiking MLP or CNN with spike-coded input: the test set encoded
    once (``seed``), NeuroBench on the model's twin, ours on one Numba run per sample of
    :func:`ann_bridge.network.to_network` of the same weights and input spikes."""
    import torch
    from torch import nn

    from ann_bridge import neurobench_twin
    from ann_bridge.classifier import SpikingClassifier, encode
    from ann_bridge.network import to_network

    if model.encoding == "analog":
        from snn.errors import UnsupportedFeature

        raise UnsupportedFeature("analog input", "the Numba workload run", "use rate or latency coding")
    samples = torch.as_tensor(x, dtype=torch.float32)
    if not isinstance(model, SpikingClassifier):
        samples = samples.reshape(len(x), *model.image_shape)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        spikes = encode(samples, model.timesteps, model.encoding)  # (T, batch, ...)
    twin = neurobench_twin.twin(model)
    theirs = neurobench_twin.metrics(twin, spikes.transpose(0, 1).contiguous(), torch.as_tensor(y))
    if isinstance(model, SpikingClassifier):
        chain = nn.Sequential(*model.hidden, model.readout)
    else:
        chain = nn.Sequential(*model.convs, nn.Flatten(), model.readout)
    dt = model.readout.dt
    ours = _counted((to_network(chain, spikes[:, i]) for i in range(len(x))), model.timesteps, dt)
    not_compared = {"Footprint": STORAGE}
    if not isinstance(model, SpikingClassifier):
        not_compared["ParameterCount"] = EXPANDED
    return _report(
        theirs, ours, "snn.workload on the Numba simulator's runs (one per test sample)", not_compared
    )


def converted_metrics(converted, x: np.ndarray, y: np.ndarray, timesteps: int) -> dict:
    """The converted MLP at ``timesteps``: NeuroBench on its twin, ours on the Numba run of
    :func:`ann_bridge.conversion.to_network` (every test sample side by side)."""
    import torch

    from ann_bridge import neurobench_twin
    from ann_bridge.conversion import to_network
    from snn import Simulator, workload

    twin = neurobench_twin.twin(converted, timesteps)
    theirs = neurobench_twin.metrics(twin, torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y))
    dt = 1e-3
    network = workload.probe_for_workload(to_network(converted, x, dt), readouts=("out",))
    result = Simulator(network, dt=dt, progress=False).run(timesteps * dt)
    ours = workload.workload_metrics(network, [result], dt, samples_per_run=len(x), readouts=("out",))
    ours.update(workload.static_metrics(to_network(converted, x[:1], dt), dt))
    not_compared = {
        "Footprint": STORAGE,
        "SynapticOperations.Effective_MACs": ANALOG,
        "SynapticOperations.Dense": ANALOG,
        "ParameterCount": "the first layer's weights and bias are folded into one current per neuron",
    }
    return _report(theirs, ours, "snn.workload on the Numba simulator's run", not_compared)


ABSENT = "absent synapses (no self-connections) are zeros in the twin's dense matrices, counted by NeuroBench"


def lsnn_metrics(lsnn, weights, x: np.ndarray) -> dict:
    """A trained LSNN on test sequences ``x`` ``(batch, T, n_in)`` of 0/1 spikes: NeuroBench
    on the :class:`~ann_bridge.neurobench_twin.NetworkTwin` of :func:`snn.lsnn.to_network`,
    ours on one Numba run per sequence of that network."""
    import torch

    from ann_bridge import neurobench_twin
    from snn.lsnn import to_network

    ours = _counted((to_network(lsnn, weights, sequence) for sequence in x), x.shape[1], lsnn.dt)
    twin = neurobench_twin.NetworkTwin(to_network(lsnn, weights, x[0]), lsnn.dt, "input", "readout")
    theirs = neurobench_twin.metrics(twin, torch.as_tensor(x, dtype=torch.float64), None)
    not_compared = {
        "Footprint": STORAGE,
        "ConnectionSparsity": ABSENT,
        "ParameterCount": ABSENT,
        "SynapticOperations.Dense": ABSENT,
    }
    return _report(
        theirs, ours, "snn.workload on the Numba simulator's runs (one per test sequence)", not_compared
    )


def not_computed(reason: str) -> dict:
    """A row NeuroBench cannot run, with the reason."""
    return {"not_computed": reason}


def summarise(per_seed: list[dict]) -> dict:
    """One table row from a row's per-seed reports: the mean of each metric on both sides,
    the largest relative difference over seeds, and what was not compared (or why the
    row was not computed)."""
    if any("not_computed" in r for r in per_seed):
        return per_seed[0]
    mean = {
        side: {k: float(np.mean([_flat(r[side])[k] for r in per_seed])) for k in _flat(per_seed[0][side])}
        for side in ("neurobench", "ours")
    }
    return {
        "mean": mean,
        "max_difference": max(r["difference"]["max"] for r in per_seed),
        "not_compared": per_seed[0]["difference"]["not_compared"],
        "ours_from": per_seed[0]["ours_from"],
        "per_seed": per_seed,
    }


#: the table's columns: NeuroBench's flattened metric names
COLUMNS = (
    "ActivationSparsity",
    "SynapticOperations.Effective_ACs",
    "SynapticOperations.Effective_MACs",
    "SynapticOperations.Dense",
    "MembraneUpdates",
    "ConnectionSparsity",
    "ParameterCount",
    "Footprint",
)


def markdown_table(rows: list[dict]) -> list[str]:
    """The NeuroBench table: per row and metric ``NeuroBench / ours`` (``*``: counted
    differently on purpose, reasons below the table)."""
    short = [c.split(".")[-1] for c in COLUMNS]
    lines = [
        "NeuroBench's metrics per test sample (the neurobench package on the model or its twin) / ours "
        "(our counters on the same model); * = counted differently, see the notes",
        "",
        f"| model | T | {' | '.join(short)} | max rel. diff. |",
        f"|---|---:|{'---:|' * len(COLUMNS)}---:|",
    ]
    reasons: dict[str, list[str]] = {}
    for row in rows:
        info = row.get("neurobench")
        if info is None:
            continue
        if "not_computed" in info:
            lines.append(f"| {row['model']} | {row['timesteps']} | not computed: {info['not_computed']} |")
            continue
        cells = []
        for column in COLUMNS:
            theirs, ours = info["mean"]["neurobench"].get(column), info["mean"]["ours"].get(column)
            mark = "*" if column in info["not_compared"] else ""
            if column in info["not_compared"]:
                reasons.setdefault(info["not_compared"][column], []).append(f"{row['model']} {column}")
            cells.append(f"{_number(theirs)} / {_number(ours)}{mark}")
        lines.append(
            f"| {row['model']} | {row['timesteps']} | {' | '.join(cells)} | {info['max_difference']:.1e} |"
        )
    if reasons:
        lines += [
            "",
            *[f"* {reason} ({', '.join(dict.fromkeys(where))})" for reason, where in reasons.items()],
        ]
    return lines


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1 else f"{value:.4g}"
