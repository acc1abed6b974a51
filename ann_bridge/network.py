"""Torch layer stacks <-> ``snn.Network``, so a trained model runs on the Numba simulator
and, through it, on every backend."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ann_bridge.layers import SpikingLinear
from snn.connectivity import AllToAll
from snn.errors import ValidationError
from snn.inputs import SpikeSource
from snn.network import Network, Population


def _layers(model: nn.Module) -> list[SpikingLinear]:
    layers = [model] if isinstance(model, SpikingLinear) else list(model.children())
    if not layers or not all(isinstance(layer, SpikingLinear) for layer in layers):
        raise ValidationError("model", "must be a SpikingLinear or an nn.Sequential of SpikingLinear layers")
    return layers


def to_network(
    model: nn.Module, input_spikes: torch.Tensor | np.ndarray, name: str = "from_torch"
) -> Network:
    """The network equivalent of ``model`` driven by one sample's ``input_spikes`` ``(T, n_in)``.

    Node names: ``input`` (a SpikeSource whose spike in step ``k`` sits at ``k * dt``) and
    ``layer0``, ``layer1``, ...; every population's spikes are probed, and ``v`` of an LI
    readout.
    """
    layers = _layers(model)
    dt = layers[0].dt
    if any(layer.dt != dt for layer in layers):
        raise ValidationError("model", "all layers must share one dt")
    spikes = torch.as_tensor(input_spikes).detach().cpu().numpy()
    if spikes.ndim != 2 or spikes.shape[1] != layers[0].n_in:
        raise ValidationError("input_spikes", f"must have shape (T, {layers[0].n_in}), got {spikes.shape}")
    steps, ids = np.nonzero(spikes)
    net = Network(name)
    net.add(SpikeSource(name="input", size=layers[0].n_in, times=steps * dt, ids=ids))
    previous = "input"
    for index, layer in enumerate(layers):
        population = f"layer{index}"
        net.add(Population(name=population, size=layer.n_out, model=layer.model))
        weights = layer.weight.detach().cpu().double().numpy()
        net.connect(
            previous, population, AllToAll(weights=weights), synapse=layer.synapse, name=f"{previous}_w"
        )
        if layer.recurrent_weight is not None:
            recurrent = layer.recurrent_weight.detach().cpu().double().numpy().copy()
            np.fill_diagonal(recurrent, 0.0)
            net.connect(
                population,
                population,
                AllToAll(weights=recurrent),
                synapse=layer.synapse,
                name=f"{population}_recurrent",
            )
        net.probe(population, "spikes" if layer.p.spiking else "v")
        previous = population
    return net
