"""The LSNN in PyTorch: the BPTT reference for e-prop, and ``--rule bptt`` training.

Same model, same step (:func:`ann_bridge.functional.step` on the LIF and ALIF groups of
:class:`snn.lsnn.LSNN`), same readout and losses as :mod:`snn.learning.eprop`; gradients
come from autograd through time with Bellec's pseudo-derivative as the surrogate
(``triangle``, scale ``gamma``, distance measured in units of ``v_th``). As in e-prop,
the reset does not carry gradient.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ann_bridge import functional
from ann_bridge.surrogate import surrogate
from snn.lsnn import LSNN, LSNNWeights
from snn.synapses import Delta

PARAMETER_NAMES = ("w_in", "w_rec", "w_out", "b_out")


def run(lsnn: LSNN, params: dict[str, torch.Tensor], mask: torch.Tensor, x: torch.Tensor, gamma: float = 0.3):
    """Spikes ``(batch, T, N)`` and readout ``(batch, T, n_out)`` for input ``x`` (batch, T, n_in).

    ``params``: tensors ``w_in`` (n_in, N), ``w_rec`` (N, N), ``w_out`` (N, n_out),
    ``b_out`` (n_out,); ``mask`` (N, N) zeroes absent recurrent synapses.
    """
    models = lsnn.neuron_models()
    spike_fn = surrogate("triangle", gamma)
    batch = x.shape[0]
    groups = lsnn.groups()
    consts = {g: functional.parameters(models[g], Delta(), lsnn.dt) for g in groups}
    states = {
        g: functional.initial_state(models[g], (batch, r.stop - r.start), dtype=x.dtype, device=x.device)
        for g, r in groups.items()
    }
    w_rec = params["w_rec"] * mask
    kappa = lsnn.constants()["kappa"]
    y = torch.zeros(batch, lsnn.n_out, dtype=x.dtype, device=x.device)
    zero = torch.zeros(batch, lsnn.n_rec, dtype=x.dtype, device=x.device)
    increments = x @ params["w_in"]  # (batch, T, N), one matmul for every step
    z = zero
    spikes, outputs = [], []
    for increment in increments.unbind(1):
        parts = []
        for g, r in groups.items():
            # the slot already holds what step t - 1 sent; this step's sends are added below
            z_g, states[g] = functional.step(zero[:, r], states[g], consts[g], spike_fn,
                                             threshold_scale=lsnn.v_th)  # fmt: skip
            parts.append(z_g)
        z = torch.cat(parts, dim=1)
        sent = z @ w_rec + increment
        for g, r in groups.items():
            states[g] = states[g]._replace(syn=states[g].syn + sent[:, r])
        y = kappa * y + z @ params["w_out"] + params["b_out"]
        spikes.append(z)
        outputs.append(y)
    return torch.stack(spikes, 1), torch.stack(outputs, 1)


def loss(
    lsnn: LSNN,
    spikes: torch.Tensor,
    outputs: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    kind: str = "softmax",
    reg_rate: float = 0.0,
    target_rate: float = 10.0,
) -> torch.Tensor:
    """The loss e-prop estimates the gradient of (see :mod:`snn.learning.eprop`)."""
    batch, steps = outputs.shape[:2]
    if kind == "softmax":
        per_step = -(target * torch.log_softmax(outputs, dim=-1)).sum(-1)
    else:
        per_step = 0.5 * ((outputs - target) ** 2).sum(-1)
    total = (mask * per_step).sum() / batch
    if reg_rate > 0:
        rates = spikes.sum((0, 1)) / (batch * steps * lsnn.dt)
        total = total + 0.5 * reg_rate * ((rates - target_rate) ** 2).sum()
    return total


class LSNNModule(nn.Module):
    """Trainable LSNN (thin over :func:`run`); ``forward(x)`` returns ``(spikes, outputs)``."""

    def __init__(self, lsnn: LSNN, weights: LSNNWeights, gamma: float = 0.3, dtype=torch.float64):
        super().__init__()
        self.lsnn, self.gamma = lsnn, gamma
        for name, value in weights.arrays().items():
            setattr(self, name, nn.Parameter(torch.as_tensor(np.asarray(value), dtype=dtype)))
        self.register_buffer("mask", torch.as_tensor(np.asarray(weights.mask), dtype=dtype))

    def params(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in PARAMETER_NAMES}

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return run(self.lsnn, self.params(), self.mask, x, self.gamma)

    def weights(self) -> LSNNWeights:
        arrays = {
            name: getattr(self, name).detach().cpu().numpy().astype(np.float64) for name in PARAMETER_NAMES
        }
        mask = self.mask.cpu().numpy().astype(bool)
        arrays["w_rec"] = arrays["w_rec"] * mask
        return LSNNWeights(**arrays, mask=mask)


def bptt_gradients(
    lsnn: LSNN,
    weights: LSNNWeights,
    x: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    kind: str = "softmax",
    gamma: float = 0.3,
    reg_rate: float = 0.0,
    target_rate: float = 10.0,
) -> tuple[float, dict[str, np.ndarray]]:
    """The autograd (BPTT) loss and gradient, float64 on the CPU, for gradient checks."""
    module = LSNNModule(lsnn, weights, gamma=gamma, dtype=torch.float64)
    as_tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    spikes, outputs = module(as_tensor(x))
    value = loss(lsnn, spikes, outputs, as_tensor(target), as_tensor(mask), kind, reg_rate, target_rate)
    value.backward()
    grads = {name: getattr(module, name).grad.numpy().copy() for name in PARAMETER_NAMES}
    grads["w_rec"] = grads["w_rec"] * weights.mask
    return float(value.detach()), grads
