"""Torch layer stacks <-> ``snn.Network``, so a trained model runs on the Numba simulator
and, through it, on every backend."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ann_bridge.layers import SpikingConv1d, SpikingLinear
from snn.connectivity import AllToAll, Sparse
from snn.errors import ValidationError
from snn.inputs import SpikeSource
from snn.network import Network, Population

CHAIN = (SpikingLinear, SpikingConv1d)


def _layers(model: nn.Module) -> list[nn.Module]:
    """The spiking layers of ``model`` in order (``nn.Flatten`` between them is allowed and
    changes nothing here: a population's neurons are numbered in torch's flattening order)."""
    layers = [model] if isinstance(model, CHAIN) else list(model.children())
    layers = [layer for layer in layers if not isinstance(layer, nn.Flatten)]
    if not layers or not all(isinstance(layer, CHAIN) for layer in layers):
        raise ValidationError(
            "model",
            "must be a SpikingLinear or SpikingConv1d, or an nn.Sequential / ModuleList of them "
            "(with nn.Flatten between convolutions and linear layers)",
        )
    return layers


def _conv_synapses(
    layer: SpikingConv1d, in_shape: tuple[int, ...], where: str
) -> tuple[Sparse, tuple[int, int]]:
    """The convolution as explicit synapses between ``(channel, position)`` grids numbered
    channel-major (torch's order), and the output shape ``(out_channels, out_length)``.
    ``where`` names what a wrong input shape comes from in the error."""
    conv = layer.conv
    if len(in_shape) != 2 or in_shape[0] != conv.in_channels:
        raise ValidationError(
            where, f"a convolution over {conv.in_channels} channels got input shape {in_shape}"
        )
    if (
        isinstance(conv.padding, str)
        or conv.padding_mode != "zeros"
        or conv.dilation != (1,)
        or conv.groups != 1
    ):
        raise ValidationError(
            "model",
            "only convolutions with integer zero padding, no dilation and one group map onto synapses",
        )
    (kernel,), (stride,), (padding,) = conv.kernel_size, conv.stride, conv.padding
    length = in_shape[1]
    out_length = (length + 2 * padding - kernel) // stride + 1
    out_c, in_c, tap, position = np.meshgrid(
        np.arange(conv.out_channels), np.arange(conv.in_channels), np.arange(kernel),
        np.arange(out_length), indexing="ij",
    )  # fmt: skip
    source = position * stride - padding + tap
    inside = (source >= 0) & (source < length)
    weights = conv.weight.detach().cpu().double().numpy()[out_c, in_c, tap]
    synapses = Sparse(
        pre=(in_c * length + source)[inside],
        post=(out_c * out_length + position)[inside],
        weights=weights[inside],
    )
    return synapses, (conv.out_channels, out_length)


def to_network(
    model: nn.Module, input_spikes: torch.Tensor | np.ndarray, name: str = "from_torch"
) -> Network:
    """The network equivalent of ``model`` driven by one sample's ``input_spikes``.

    ``input_spikes``: ``(T, n_in)`` for a linear first layer, ``(T, channels, length)`` for a
    convolution. Node names: ``input`` (a SpikeSource whose spike in step ``k`` sits at
    ``k * dt``) and ``layer0``, ``layer1``, ...; a convolution's grid is one population
    numbered channel-major, its kernel explicit ``Sparse`` synapses. Every population's
    spikes are probed, and ``v`` of an LI readout.
    """
    layers = _layers(model)
    dt = layers[0].dt
    if any(layer.dt != dt for layer in layers):
        raise ValidationError("model", "all layers must share one dt")
    spikes = torch.as_tensor(input_spikes).detach().cpu().numpy()
    first = layers[0]
    want = (first.n_in,) if isinstance(first, SpikingLinear) else (first.conv.in_channels, "length")
    if spikes.ndim != len(want) + 1 or (isinstance(first, SpikingLinear) and spikes.shape[1] != first.n_in):
        raise ValidationError(
            "input_spikes", f"must have shape (T, {', '.join(map(str, want))}), got {spikes.shape}"
        )
    if not np.all((spikes == 0) | (spikes == 1)):
        raise ValidationError("input_spikes", "must hold 0 or 1 per step and channel (a spike raster)")
    shape = spikes.shape[1:]
    steps, ids = np.nonzero(spikes.reshape(spikes.shape[0], -1))
    net = Network(name)
    net.add(SpikeSource(name="input", size=int(np.prod(shape)), times=steps * dt, ids=ids))
    previous = "input"
    for index, layer in enumerate(layers):
        population = f"layer{index}"
        if isinstance(layer, SpikingConv1d):
            connectivity, shape = _conv_synapses(layer, shape, "input_spikes" if index == 0 else "model")
        else:
            if int(np.prod(shape)) != layer.n_in:
                raise ValidationError(
                    "model", f"layer {index} expects {layer.n_in} inputs, gets {int(np.prod(shape))}"
                )
            connectivity, shape = (
                AllToAll(weights=layer.weight.detach().cpu().double().numpy()),
                (layer.n_out,),
            )
        net.add(Population(name=population, size=int(np.prod(shape)), model=layer.model))
        net.connect(previous, population, connectivity, synapse=layer.synapse, name=f"{previous}_w")
        if getattr(layer, "recurrent_weight", None) is not None:
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


def from_network(network: Network, dt: float, seed: int = 0, dtype=torch.float32) -> nn.Sequential:
    """The torch layers equivalent to a feed-forward chain ``source -> pop0 -> pop1 -> ...``.

    Each population takes one projection from the previous node (any connectivity rule;
    random ones are drawn from ``seed`` exactly as :class:`snn.Simulator` draws them) and
    optionally one from itself (recurrent). Parts the layers cannot express raise
    :class:`~snn.errors.UnsupportedFeature` naming them: delays, branching graphs, currents,
    initial potentials.
    """
    from snn.build import drawn_blocks
    from snn.errors import UnsupportedFeature

    if network.currents:
        raise UnsupportedFeature(
            "injected currents", "ann_bridge.from_network", "drive the layers with inputs"
        )
    for population in network.populations.values():
        if population.initial_v is not None:
            raise UnsupportedFeature(
                f"initial_v of population {population.name!r}",
                "ann_bridge.from_network",
                "the layers start every neuron at rest (reset for IF)",
            )
    if len(network.sources) != 1:
        raise UnsupportedFeature(
            f"{len(network.sources)} spike sources",
            "ann_bridge.from_network",
            "the chain needs exactly one input source",
        )
    incoming: dict[str, list] = {}
    for projection, block in drawn_blocks(network, dt, seed):
        post = network.populations[projection.post]
        if np.any(np.asarray(block.delays) != 0):
            raise UnsupportedFeature(f"delays (projection {projection.name!r})", "ann_bridge.from_network")
        incoming.setdefault(projection.post, []).append((projection, block.dense(post.size)))
    layers = []
    previous = next(iter(network.sources))
    for name, population in network.populations.items():
        entries = incoming.get(name, [])
        feed = [(p, w) for p, w in entries if p.pre == previous]
        loops = [(p, w) for p, w in entries if p.pre == name]
        if len(feed) != 1 or len(feed) + len(loops) != len(entries) or len(loops) > 1:
            raise UnsupportedFeature(
                f"the projections into {name!r}",
                "ann_bridge.from_network",
                "only a chain with one projection from the previous node and an optional "
                "self-projection maps onto layers",
            )
        synapse = feed[0][0].synapse
        if loops and loops[0][0].synapse != synapse:
            raise UnsupportedFeature(f"two synapse types into {name!r}", "ann_bridge.from_network")
        size_in = feed[0][1].shape[0]
        layer = SpikingLinear(
            size_in, population.size, population.model, synapse, dt=dt, recurrent=bool(loops), dtype=dtype
        )
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(feed[0][1], dtype=dtype))
            if loops:
                layer.recurrent_weight.copy_(torch.as_tensor(loops[0][1], dtype=dtype))
        layers.append(layer)
        previous = name
    return nn.Sequential(*layers)
