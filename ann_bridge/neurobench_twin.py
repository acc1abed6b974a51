"""NeuroBench's own metrics on the bridge's models: the ``neurobench`` package (2.3) run on
each model as NeuroBench runs torch models, beside our counters (:mod:`snn.workload`).

NeuroBench hooks ``nn.Linear``/``nn.Conv*`` layers (synaptic operations, connection
sparsity) and activation modules (activation sparsity; membrane updates for snnTorch
``SpikingNeuron`` layers, read from their ``mem``). ANN baselines are already built of
those modules and run as they are. The spiking models fuse their synapses into their
layers and scan over time, so NeuroBench sees nothing in them; :func:`twin` rebuilds one
step by step from the same weights: per step, each layer's synaptic map is its own
``nn.Linear``/``nn.Conv1d`` and its neurons an ``snntorch.SpikingNeuron`` subclass whose
forward is :func:`ann_bridge.functional.step` — our maths, not snnTorch's — exposing ``mem``.
The twin spikes as the model does (tested), so its NeuroBench figures are the model's.

``neurobench`` is an optional extra installed without its dependencies (its ``torchaudio``
requirement would replace a CPU torch; only its Speech2Spikes preprocessing imports it).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from torch import nn

from ann_bridge import functional
from ann_bridge.surrogate import surrogate
from snn.errors import UnsupportedFeature, ValidationError


def _spiking_neuron_base():
    import snntorch

    return snntorch.SpikingNeuron


class _StepState:
    """One population's state across a sample's steps, held in the module between calls
    (as snnTorch's layers hold ``mem``): ``reset_state()`` before each batch."""

    def _setup(self, model, synapse, dt: float) -> None:
        self.neuron_model = model
        self.p = functional.parameters(model, synapse, dt)
        self.spike_fn = surrogate("fast_sigmoid")
        self.state: functional.State | None = None
        # NeuroBench's hook reads mem before the first step too (snnTorch starts it empty)
        self.mem = torch.zeros(0)

    def reset_state(self) -> None:
        self.state = None

    def _step(self, increment: torch.Tensor, current: torch.Tensor | None) -> torch.Tensor:
        if self.state is None or self.state.v.shape != increment.shape:
            self.state = functional.initial_state(
                self.neuron_model, tuple(increment.shape), dtype=increment.dtype, device=increment.device
            )
        z, self.state = functional.step(increment, self.state, self.p, self.spike_fn, current=current)
        self.mem = self.state.v  # what NeuroBench's neuron hook reads before and after each call
        return z


def spiking_neurons(model, synapse, dt: float) -> nn.Module:
    """A population of ``model`` neurons as an ``snntorch.SpikingNeuron`` (so NeuroBench
    hooks it) stepping with :func:`ann_bridge.functional.step`. ``forward(increment,
    current=None)`` takes the step's synaptic increment (acting from the next step, as in
    the simulator) and an optional injected current (A); returns ``(spikes, mem)`` as
    snnTorch's layers do."""

    class SpikingNeurons(_StepState, _spiking_neuron_base()):
        def __init__(self) -> None:
            super().__init__(threshold=1.0, reset_mechanism="subtract")
            self._setup(model, synapse, dt)

        def forward(self, increment, current=None):
            # (spikes, mem) as snnTorch's layers return them: NeuroBench's hook takes output[0]
            return self._step(increment, current), self.mem

    return SpikingNeurons()


class Readout(_StepState, nn.Module):
    """A non-spiking (LI or non-firing IF) readout: returns its potential each step. Not an
    activation module, as NeuroBench does not count a readout's potential as activity."""

    def __init__(self, model, synapse, dt: float) -> None:
        nn.Module.__init__(self)
        self._setup(model, synapse, dt)

    def forward(self, increment, current=None):
        self._step(increment, current)
        return self.state.v


class StepTwin(nn.Module):
    """A chain of ``(synaptic map, neurons, constant current)`` layers stepped over time.

    ``forward(x)``: ``x`` is ``(batch, T, *input_shape)`` (NeuroBench's layout) for spike
    or per-step input, or ``(batch, *input_shape)`` for an input held for ``timesteps``.
    Layer 0's map may drive a current (``first_as_current``: the converted MLP's analog
    input); every other map's output is a synaptic increment. Returns the readout's
    potential averaged over time (``score="mean"``) or at the last step (``"last"``)."""

    def __init__(self, maps, neurons, biases, timesteps: int, first_as_current: bool, score: str) -> None:
        super().__init__()
        self.maps = nn.ModuleList(maps)
        self.neurons = nn.ModuleList(neurons)
        self.biases = [None if b is None else torch.as_tensor(b) for b in biases]
        self.timesteps, self.first_as_current, self.score = timesteps, first_as_current, score
        self.flatten_before = [isinstance(m, nn.Linear) for m in maps]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for population in self.neurons:
            population.reset_state()
        steps = x.shape[1] if not self.first_as_current else self.timesteps
        potentials = []
        for t in range(steps):
            signal = x[:, t] if not self.first_as_current else x
            for index, (weights, population) in enumerate(zip(self.maps, self.neurons, strict=True)):
                if self.flatten_before[index]:
                    signal = signal.flatten(1)
                drive = weights(signal)
                bias = self.biases[index]
                if index == 0 and self.first_as_current:
                    signal = population(torch.zeros_like(drive), drive)
                else:
                    signal = population(drive, None if bias is None else bias.to(drive).expand_as(drive))
                if isinstance(signal, tuple):
                    signal = signal[0]
            potentials.append(signal)
        return torch.stack(potentials).mean(0) if self.score == "mean" else potentials[-1]


class NetworkTwin(nn.Module):
    """An :class:`snn.Network` of linear-model populations, delta projections without delay
    (a spike acts from the next step, as in the simulator) and constant currents, stepped over time
    with one ``nn.Linear`` per projection (the concrete synapses as a dense matrix, absent
    synapses as zeros) and one neuron module per population, fed by spike source
    ``source``: ``forward(x)`` takes ``(batch, T, source size)`` 0/1 spikes and returns the
    potential of ``readout`` per step, ``(batch, T, readout size)``. Recurrent networks
    (the LSNN) included."""

    def __init__(self, network, dt: float, source: str, readout: str, seed: int = 0) -> None:
        from snn.build import drawn_blocks, effective_synapse, seed_streams
        from snn.build.neurons import neuron_arrays
        from snn.synapses import Delta

        super().__init__()
        if set(network.sources) != {source}:
            raise UnsupportedFeature(
                f"spike sources {sorted(network.sources)}",
                "neurobench twin",
                f"feed the twin through the one source {source!r}",
            )
        _, init_rng, _ = seed_streams(seed)
        arrays = neuron_arrays(network, dt, np.float64, init_rng)
        self.order, self.readout, self.source = list(network.populations), readout, source
        modules, initial = {}, {}
        for index, (name, population) in enumerate(network.populations.items()):
            make = spiking_neurons if population.model.spiking else Readout
            modules[name] = make(population.model, Delta(), dt)
            initial[name] = arrays.initial_v[arrays.start[index] : arrays.start[index + 1]]
        self.neurons = nn.ModuleDict(modules)
        self.initial_v = {k: torch.as_tensor(np.array(v)) for k, v in initial.items()}
        self.currents = {}
        for current in network.currents:
            if len(current.times) != 1 or current.neurons is not None or current.times[0] != 0:
                raise UnsupportedFeature(
                    "a time-varying or partial current",
                    "neurobench twin",
                    "use Current.constant over the whole population",
                )
            amplitude = torch.as_tensor(np.array(current.amplitudes[0], dtype=np.float64))
            self.currents[current.target] = self.currents.get(current.target, 0.0) + amplitude  # they add up
        self.links = []
        maps = []
        for projection, block in drawn_blocks(network, dt, seed):
            synapse = effective_synapse(network, projection)  # a CubaLIF's own current is not a delta
            if not isinstance(synapse, Delta) or np.any(np.asarray(block.delays) > 0):
                raise UnsupportedFeature(
                    f"projection {projection.name!r} (synapse or delay)",
                    "neurobench twin",
                    "delta synapses without delay",
                )
            maps.append(_linear(torch.as_tensor(block.dense(network.populations[projection.post].size))))
            self.links.append((projection.pre, projection.post))
        self.maps = nn.ModuleList(maps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        for name, population in self.neurons.items():
            population.reset_state()
            shape = (batch, self.initial_v[name].numel())
            population.state = functional.initial_state(population.neuron_model, shape, dtype=x.dtype)
            population.state = population.state._replace(v=self.initial_v[name].to(x).expand(shape).clone())
        potentials = []
        for t in range(x.shape[1]):
            spikes = {self.source: x[:, t]}
            for name in self.order:  # this step's spikes, from the increments of the last one
                population = self.neurons[name]
                pending = population.state.syn
                current = self.currents.get(name)
                out = population(
                    torch.zeros_like(pending), None if current is None else current.to(x).expand_as(pending)
                )
                spikes[name] = out[0] if isinstance(out, tuple) else out
            increments = {name: 0.0 for name in self.order}
            for (pre, post), weights in zip(self.links, self.maps, strict=True):
                increments[post] = increments[post] + weights(spikes[pre])
            for name in self.order:
                population = self.neurons[name]
                population.state = population.state._replace(
                    syn=torch.zeros_like(population.state.v) + increments[name]
                )
            potentials.append(self.neurons[self.readout].state.v)
        return torch.stack(potentials, 1)


def _linear(weight_in_out: torch.Tensor, bias=None) -> nn.Linear:
    weight = torch.as_tensor(weight_in_out).detach()
    layer = nn.Linear(weight.shape[0], weight.shape[1], bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight.T)
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(bias, dtype=weight.dtype))
    return layer


def twin(model, timesteps: int | None = None) -> nn.Module:
    """The step-by-step twin NeuroBench can hook, of a :class:`~ann_bridge.classifier.SpikingClassifier`,
    :class:`~ann_bridge.classifier.SpikingCNN` or :class:`~ann_bridge.conversion.ConvertedMLP`
    (its simulator network's maths: IF neurons, analog input as a current, biases as
    currents; ``timesteps``: how long it holds its analog input); an ANN of torch layers is
    returned as it is."""
    import copy

    from ann_bridge.classifier import SpikingClassifier, SpikingCNN
    from ann_bridge.conversion import ConvertedMLP, integrator_model, neuron_model

    if isinstance(model, SpikingClassifier | SpikingCNN):
        layers = [*(model.hidden if isinstance(model, SpikingClassifier) else model.convs), model.readout]
        maps, neurons = [], []
        for layer in layers:
            if layer.recurrent(None) is not None:
                raise UnsupportedFeature(
                    "recurrent weights", "neurobench twin", "export a feed-forward model"
                )
            maps.append(copy.deepcopy(layer.conv) if hasattr(layer, "conv") else _linear(layer.weight))
            make = spiking_neurons if layer.p.spiking else Readout
            neurons.append(make(layer.model, layer.synapse, layer.dt))
        return StepTwin(maps, neurons, [None] * len(maps), model.timesteps, False, "mean")
    if isinstance(model, ConvertedMLP):
        from snn.synapses import Delta

        dt = 1e-3  # the step of ann_bridge.conversion.to_network's default; IF here is dt-free
        maps, neurons, biases = [], [], []
        for index, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
            last = index == len(model.weights) - 1
            w64 = torch.as_tensor(w, dtype=torch.float64)
            maps.append(_linear(w64, b if index == 0 else None))
            neurons.append(
                (Readout if last else spiking_neurons)(
                    (integrator_model if last else neuron_model)(dt), Delta(), dt
                )
            )
            biases.append(None if index == 0 else np.asarray(b, dtype=np.float64))
        if timesteps is None:
            raise ValidationError(
                "timesteps", "a converted MLP's twin needs the steps it holds its input for"
            )
        return StepTwin(maps, neurons, biases, timesteps, True, "last")
    if isinstance(model, nn.Module):
        return model
    raise ValidationError("model", f"has no NeuroBench twin: {type(model).__name__}")


def metrics(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None, batch_size: int = 512) -> dict:
    """NeuroBench's static and workload metrics of torch ``model`` on data ``x`` (NeuroBench's
    layout), labels ``y`` (None: no ``ClassificationAccuracy``, for models whose output is
    not one score vector per sample), computed by the ``neurobench`` package's ``Benchmark``.

    Returns NeuroBench's keys: ``Footprint``, ``ConnectionSparsity``, ``ParameterCount``,
    ``ClassificationAccuracy``, ``ActivationSparsity``, ``SynapticOperations`` (a dict:
    ``Effective_MACs``, ``Effective_ACs``, ``Dense``) and ``MembraneUpdates``.
    """
    try:
        import neurobench  # noqa: F401
    except ImportError as error:
        raise UnsupportedFeature(
            "NeuroBench metrics",
            "this install",
            "pip install --no-deps -r requirements/no-deps.txt (neurobench without its torchaudio)",
        ) from error
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics.static import ConnectionSparsity, Footprint, ParameterCount
    from neurobench.metrics.workload import (
        ActivationSparsity,
        ClassificationAccuracy,
        MembraneUpdates,
        SynapticOperations,
    )
    from neurobench.models import TorchModel
    from torch.utils.data import DataLoader, TensorDataset

    wrapped = TorchModel(model)
    wrapped.add_activation_module(_spiking_neuron_base())
    labels = torch.zeros(len(x), dtype=torch.int64) if y is None else torch.as_tensor(y)
    loader = DataLoader(TensorDataset(x, labels), batch_size=batch_size, shuffle=False)
    workload = [ActivationSparsity, SynapticOperations, MembraneUpdates]
    benchmark = Benchmark(
        wrapped,
        loader,
        [],
        [lambda scores: scores.argmax(-1)],
        [
            [Footprint, ConnectionSparsity, ParameterCount],
            workload if y is None else [ClassificationAccuracy, *workload],
        ],
    )
    # NeuroBench prints a failing metric's error and reports it as 0.0: capture its output
    # and raise instead, so a zero in the table is a measured zero
    printed, progress = io.StringIO(), io.StringIO()
    with torch.no_grad(), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(progress):
        results = benchmark.run(quiet=False)
    failures = [line for line in printed.getvalue().splitlines() if line.startswith("Error running")]
    if failures:
        raise RuntimeError(f"neurobench: {'; '.join(failures)}")
    return results
