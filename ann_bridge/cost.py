"""Energy estimates from counted operations. These are estimates, labelled with their source.

* 45 nm CMOS, 32-bit float: multiply 3.7 pJ + add 0.9 pJ = 4.6 pJ per multiply-accumulate,
  0.9 pJ per accumulate (Horowitz, "Computing's energy problem", ISSCC 2014).
* Loihi: 23.6 pJ per synaptic operation (Davies et al., IEEE Micro 38(1), 2018, Table 1).
"""

from __future__ import annotations

PJ = 1e-12
MAC_J = 4.6 * PJ  # Horowitz 2014, 45 nm, fp32
AC_J = 0.9 * PJ  # Horowitz 2014, 45 nm, fp32 add
LOIHI_SOP_J = 23.6 * PJ  # Davies et al. 2018
SOURCES = {
    "mac_j": "Horowitz 2014 (ISSCC), 45 nm fp32 mult + add",
    "ac_j": "Horowitz 2014 (ISSCC), 45 nm fp32 add",
    "loihi_sop_j": "Davies et al. 2018 (IEEE Micro), Loihi synaptic op",
}


def ann_energy(macs: float) -> float:
    """Joules for ``macs`` multiply-accumulates (estimate)."""
    return macs * MAC_J


def snn_energy(accumulates: float, macs: float = 0.0) -> float:
    """Joules for spike-driven accumulates plus any multiply-accumulates (estimate)."""
    return accumulates * AC_J + macs * MAC_J


def ann_workload(model, x) -> dict:
    """NeuroBench's metrics of a torch ANN on inputs ``x``, counted here (per sample):
    ``ParameterCount``, ``Footprint`` (bytes of parameters and buffers),
    ``ConnectionSparsity`` (zero weights of Linear/Conv1d layers), ``ActivationSparsity``
    (zeros among the outputs of ReLU modules) and ``SynapticOperations``: ``Effective_MACs``
    (products of a nonzero input and a nonzero weight, bias excluded), ``Dense`` (every
    product the layer's shape implies, padding excluded), ``Effective_ACs`` 0 (no binary
    inputs in an ANN). :mod:`ann_bridge.neurobench_twin` gets the same from NeuroBench.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    effective = dense = 0.0
    zeros = outputs = 0

    def count(layer, inputs) -> None:
        nonlocal effective, dense
        (signal,) = inputs
        nonzero_in = (signal != 0).double()
        nonzero_w = (layer.weight != 0).double()
        if isinstance(layer, nn.Linear):
            effective += float((nonzero_in @ nonzero_w.T).sum())
            dense += float(signal.shape[0] * layer.in_features * layer.out_features)
        else:
            conv = dict(
                stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups
            )
            effective += float(F.conv1d(nonzero_in, nonzero_w, **conv).sum())
            dense += float(F.conv1d(torch.ones_like(nonzero_in), torch.ones_like(nonzero_w), **conv).sum())

    def activity(_layer, _inputs, output) -> None:
        nonlocal zeros, outputs
        zeros += int((output == 0).sum())
        outputs += output.numel()

    layers = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv1d)]
    hooks = [m.register_forward_pre_hook(count) for m in layers]
    hooks += [m.register_forward_hook(activity) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(torch.as_tensor(x, dtype=next(model.parameters()).dtype))
    finally:
        for hook in hooks:
            hook.remove()
    n = len(x)
    weights = [m.weight for m in layers]
    n_weights = sum(w.numel() for w in weights)
    tensors = [*model.parameters(), *model.buffers()]
    return {
        "Footprint": int(sum(t.numel() * t.element_size() for t in tensors)),
        "ConnectionSparsity": sum(int((w == 0).sum()) for w in weights) / n_weights,
        "ParameterCount": int(sum(p.numel() for p in model.parameters())),
        "ActivationSparsity": zeros / outputs if outputs else 0.0,
        "SynapticOperations": {"Effective_MACs": effective / n, "Effective_ACs": 0.0, "Dense": dense / n},
        "MembraneUpdates": 0.0,
    }
