r"""Nengo backend: an :class:`snn.Network` as ``nengo.Ensemble`` neurons with direct
neuron-to-neuron connections, run in ``nengo.Simulator``.

:func:`build_nengo` is the one translation; :mod:`hardware.nengo_dl` runs the very same
``nengo.Network`` in ``nengo_dl.Simulator``.

Mapping (population ``p``, ``Δ = v_th - v_reset``)
------------------------------------------------
Nengo's neurons are normalised: voltage ``V`` in units of the threshold gap, threshold 1,
reset 0, input ``J`` dimensionless. With

.. math::  V = (v - v_{reset}) / Δ

our LIF (equations in :mod:`snn.models.lif`) becomes nengo's
``tau_rc dV/dt = -V + J`` with

.. math::

    \tau_{rc} = \tau_{mem}, \qquad
    J = \underbrace{\frac{v_{rest} - v_{reset} + R\,i_{bias}}{Δ}}_{\text{Ensemble bias}}
        + \frac{R}{Δ}\,(I_{syn} + I_{ext}),

``tau_ref`` unchanged, ``min_voltage = -inf`` (our LIF has no floor), Ensemble gain 1
(unused: every connection targets ``ens.neurons``) and ``initial_state["voltage"] =
(v_0 - v_reset) / Δ`` from :func:`hardware.lowering.concrete`, so the starting
potentials (and random connectivity) are the reference's for the same seed. Both
simulators integrate ``V <- e^{-dt/τ} V + (1 - e^{-dt/τ}) J`` with ``J`` held over the
step, so between spikes the two trajectories are the same numbers. Spike ``v > v_th`` is
``V > 1`` in both.

IF (:mod:`snn.models.if_`) with ``reset="subtract"`` and ``tau_ref = 0`` is nengo's
``SpikingRectifiedLinear`` (``V <- V + dt max(J, 0)``; ``floor(V)`` spikes, ``V -= floor(V)``)
with ``J = (i_bias + I) / (C Δ)``, but only while ``J >= 0``: that neuron clips negative
input, ours integrates it. So an IF population is accepted only when nothing into it can
be negative (``i_bias``, weights and currents >= 0). Above ``1/dt`` Hz nengo emits several
spikes in one step where ours emits one per step.

AdEx and Izhikevich run their own step (:mod:`snn.models.adex`, :mod:`snn.models.izhikevich`,
compiled as for the simulator) inside a nengo ``NeuronType`` (:mod:`hardware.nengo_neurons`)
with ``J`` the input current in amperes (gain 1, bias 0) and the state in our units, so
their spikes are the reference's for the same input. Their input must be a current:
exponential synapses and injected currents (a delta synapse's voltage jump, which the
reference applies before the step, has no place in ``J``).

Synapses. A spike in our step ``k`` adds ``w`` to a slot that acts from step ``k + 1``,
decays by ``d`` per step and moves ``v`` by ``c`` times the slot value per step, where
``(d, c) = channel_coefficients(model, synapse, dt)`` (the reference's own numbers).
A nengo spike is ``1/dt`` high; the connection's synapse runs in nengo's *update* phase,
so its output is seen one step later, as ours. Per step nengo moves ``V`` by ``g J``
(``g = 1 - e^{-dt/τ}`` for LIF, ``dt`` for SpikingRectifiedLinear). Matching the
first-step effect and the decay gives the transform

.. math::  T = \frac{c\, w\, dt}{Δ\, g\, (1 - d)},

* :class:`~snn.synapses.Exponential` -> ``nengo.Lowpass(tau_syn)`` (zero-order hold, so
  its per-step decay is ``d = e^{-dt/tau_syn}`` and a ``1/dt`` spike raises it by
  ``(1 - d)/dt``): each step of the synaptic drive equals the reference's, which
  integrates the decaying current exactly within the step (``c``), while nengo holds
  it constant; ``T`` absorbs the difference.
* :class:`~snn.synapses.Delta` -> the discrete pass-through filter
  ``LinearFilter([1], [1], analog=False)`` (``d = 0``): in the update phase it delays the
  spike by exactly one step, and ``T`` makes the one-step drive the jump ``w`` seen
  ``alpha = e^{-dt/τ}`` later, as in the reference.

Inputs. Spike sources and injected currents become ``nengo.Node`` outputs. Their
spikes are the reference's: given times rounded to steps as the reference does, and
Poisson / rate-coded spikes drawn from the seed's simulation stream in the reference's
order, so Nengo sees the same input spike trains as :class:`snn.Simulator` for the same
seed (not nengo's own Poisson process). Currents enter ``J`` with no synapse, in the
step they apply to.

Probes. ``"spikes"`` (nengo output ``> 0``; a nengo step ``n`` is our step ``n - 1``,
stamped ``(n - 1) dt`` as the reference stamps spikes at the start of their step) and
``"v"`` (``v = v_reset + Δ V``, sampled at the end of every ``every``-th step).

Approximated (statistically equal, not spike for spike)
-------------------------------------------------------
Nengo's LIF interpolates the threshold crossing within the step and starts the
refractory period there, integrating the remainder of the step in which it ends; the
reference holds ``v`` for ``round(tau_ref/dt)`` whole steps after the spike step. Each
inter-spike interval can therefore differ by up to one ``dt`` (nengo's is on average
``dt/2`` shorter) and inputs arriving in the step where the refractory period ends are
partly integrated in nengo, dropped in the reference.

The reference's own step (exact, spike for spike)
--------------------------------------------------
What nengo's types cannot run as the reference does (ALIF's adaptive threshold: nengo's
AdaptiveLIF adapts an input current instead; LI readouts: nengo's rate neurons are static
nonlinearities; LIF with ``reset="subtract"`` or ``integration="euler"``; CubaLIF; IF with
``reset="value"``, a hold or possibly negative input) runs as ``LinearNeurons``
(:mod:`hardware.nengo_neurons`): a nengo type whose step is the simulator's own
(:func:`snn.kernels.simulate.step_linear_population`), with ``J`` the step's synaptic drive
in volts, so the transform above with ``Δ = g = 1`` gives each step the reference's drive.
A trained LSNN (LIF and ALIF with reset by subtraction, an LI readout) runs this way.

Refused (:class:`snn.UnsupportedFeature`, before anything is built)
-------------------------------------------------------------------
Synaptic delays, delta synapses into AdEx or Izhikevich, plasticity, and probes of
``i_syn`` and ``i_ext``; the mapping report lists them from :func:`capabilities`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hardware.base import Backend, Capabilities, MappingReport, ModelSupport, check_network, negative_input
from hardware.lowering import Concrete, Stimulus, concrete
from hardware.nengo_rules import RULES_RUN
from snn import validate
from snn.build import channel_coefficients, effective_synapse
from snn.build.neurons import discrete_parameters
from snn.inputs import SPIKE_SOURCES
from snn.models.base import LINEAR
from snn.network import PROBE_SPIKES, Network
from snn.neurons import IF, LIF
from snn.result import Result, Trace
from snn.synapses import Exponential

NAME = "nengo"
#: nengo.LinearFilter arguments of a delta synapse: a discrete pass-through, one step late
ONE_STEP_DELTA = ([1.0], [1.0], False)
#: The models' second state variable (ALIF's b, AdEx's w, Izhikevich's u), nengo's "adaptation"
SECOND_STATE = ("b", "w", "u")


# ---- pre-flight ---------------------------------------------------------------------
def capabilities() -> Capabilities:
    """What :func:`build_nengo` translates (shared by the nengo and nengo-dl backends)."""
    own_step = "hardware.nengo_neurons.LinearNeurons (the reference's step)"
    return Capabilities(
        neuron_models=("LIF", "ALIF", "IF", "LI", "CubaLIF", "AdEx", "Izhikevich"),
        models={
            "LIF": ModelSupport(as_=f"nengo.LIF (reset to value, exact) or {own_step}"),
            "IF": ModelSupport(
                as_=f"nengo.SpikingRectifiedLinear (reset by subtraction, no hold) or {own_step}"
            ),
            **{name: ModelSupport(as_=own_step) for name in ("ALIF", "LI", "CubaLIF")},
            # the model's own step inside a nengo NeuronType; its input J is a current (A), so the
            # voltage jumps of delta synapses have no place: they come as exponential currents
            **{
                name: ModelSupport(synapses=("Exponential",), as_="hardware.nengo_neurons.ModelNeurons")
                for name in ("AdEx", "Izhikevich")
            },
        },
        synapses=("Delta", "Exponential"),
        sources=tuple(cls.__name__ for cls in SPIKE_SOURCES),
        probe_variables=(PROBE_SPIKES, "v", *SECOND_STATE),
        currents=True,
        delays=False,
        plasticity=RULES_RUN,
        dendrites=True,
        notes=(
            "Oja, BCM -> nengo.Oja, nengo.BCM (rates one step later; no weight bounds; BCM's theta "
            "filters y; presynaptic neurons only): see hardware.nengo_rules",
            "LIF -> nengo.LIF (tau_rc = tau_mem, normalised voltage (v - v_reset) / (v_th - v_reset))",
            "IF (reset='subtract', tau_ref=0, non-negative input) -> nengo.SpikingRectifiedLinear",
            "ALIF, LI, CubaLIF and the LIF / IF cases nengo's types differ on -> LinearNeurons, the "
            "reference's own step (J = the step's synaptic drive in V): spike for spike",
            "AdEx, Izhikevich -> a nengo NeuronType running the model's own step (J = input current in A)",
            "nengo's LIF starts its refractory period at the interpolated spike time: rates agree, "
            "spike times may differ by a step",
            "spike sources and currents are nengo.Node outputs with the reference's spikes for the seed",
            "dendritic-segment cells -> LinearNeurons somata and a nengo.Node running the same segment "
            "layer (snn.htm.spiking.SegmentLayer) on their spikes, its plateau a delta input",
        ),
    )


def check(network: Network, backend: str = NAME, caps: Capabilities | None = None) -> None:
    """Raise :class:`snn.UnsupportedFeature` for the first part of ``network`` that
    :func:`build_nengo` cannot translate faithfully (the rules are :func:`capabilities`)."""
    check_network(network, caps if caps is not None else capabilities(), backend)
    for pop in network.populations.values():
        memory = pop.dendrites.memory if pop.dendrites is not None else None
        if memory is not None and memory.predictive_cells.size:
            from snn.errors import UnsupportedFeature

            raise UnsupportedFeature(
                f"a trained memory predicting {memory.predictive_cells.size} cells of {pop.name!r} "
                "at the start",
                backend,
                "the first cycle's plateau would need an initial state of nengo's filters; reset() the "
                "memory before building (it keeps what it learned)",
            )
    from hardware.nengo_rules import check_rule

    for projection in network.projections:
        if projection.plasticity is not None:
            check_rule(projection, projection.pre in network.populations, backend)


# ---- the parameter mapping ----------------------------------------------------------
@dataclass(frozen=True)
class NeuronMap:
    """One population's nengo parameters: ``span`` = v_th - v_reset (V), ``bias``
    (dimensionless J), ``input_gain`` (J per ampere), ``step_gain`` = g (V per unit J per
    step), ``initial`` (normalised voltage, shape ``(size,)``)."""

    span: float
    v_reset: float
    bias: float
    input_gain: float
    step_gain: float
    initial: np.ndarray

    @classmethod
    def unscaled(cls, initial, input_gain: float = 1.0) -> NeuronMap:
        """Our own units (the types that run the reference's step): voltage in V, no bias,
        ``J`` per unit of input ``input_gain``."""
        return cls(1.0, 0.0, 0.0, float(input_gain), 1.0, np.asarray(initial, dtype=np.float64))


NATIVE, OWN_STEP, OWN_NONLINEAR_STEP = "native", "own step", "own nonlinear step"


def nengo_kind(network: Network, population: str, native: bool = True) -> str:
    """How a population runs on nengo: as nengo's own LIF / SpikingRectifiedLinear where they
    are the reference's model (:data:`NATIVE`; not when ``native`` is False), else as the
    reference's step inside a nengo type (:data:`OWN_STEP`: LinearNeurons;
    :data:`OWN_NONLINEAR_STEP`: ModelNeurons)."""
    model = network.populations[population].model
    if model.kernel != LINEAR:
        return OWN_NONLINEAR_STEP
    if not native:
        return OWN_STEP
    dendritic = [p.dendrites for p in network.populations.values() if p.dendrites is not None]
    if network.populations[population].dendrites is not None or any(
        d.interneurons == population for d in dendritic
    ):  # a spike one step late would change which cells fire
        return OWN_STEP
    if (
        type(model) is LIF  # not ALIF or CubaLIF
        and model.reset == "value"
        and model.integration == "exact"
    ):
        return NATIVE
    if (
        isinstance(model, IF)
        and model.reset == "subtract"
        and model.tau_ref == 0
        and not negative_input(network, population)
    ):
        return NATIVE
    return OWN_STEP


def neuron_map(model, initial_v: np.ndarray, dt: float, kind: str = NATIVE) -> NeuronMap:
    """The normalised-voltage parameters of ``model`` (LIF or IF as nengo's types) at step
    ``dt`` (s); our own units for the models nengo runs with our step (``kind``): ``J`` is
    then the step's drive (V; LinearNeurons) or the input current (A; ModelNeurons)."""
    if kind == OWN_NONLINEAR_STEP:  # ModelNeurons: v in volts, J in amperes, nothing scaled
        return NeuronMap.unscaled(initial_v)
    if kind == OWN_STEP:  # LinearNeurons: J is the drive (V) the reference adds in the step
        return NeuronMap.unscaled(initial_v, discrete_parameters(model, dt)["drive_gain"])
    span = model.v_th - model.v_reset
    initial = (np.asarray(initial_v, dtype=np.float64) - model.v_reset) / span
    if isinstance(model, IF):
        gain = 1.0 / (model.capacitance * span)
        return NeuronMap(span, model.v_reset, gain * model.i_bias, gain, dt, initial)
    gain = model.resistance / span
    bias = (model.v_rest - model.v_reset) / span + gain * model.i_bias
    return NeuronMap(span, model.v_reset, bias, gain, -np.expm1(-dt / model.tau_mem), initial)


def transform_scale(model, synapse, dt: float, mapped: NeuronMap) -> float:
    """Nengo transform per unit of our weight (per V for Delta, per A for Exponential)."""
    decay, coef = channel_coefficients(model, synapse, dt)
    return float(coef * dt / (mapped.span * mapped.step_gain * (1.0 - decay)))


# ---- inputs: the reference's spikes and currents, step by step ----------------------
# ---- the builder --------------------------------------------------------------------
@dataclass
class NengoHandles:
    """What :func:`build_nengo` made, for running and reading results back.

    ``ensembles``/``source_nodes``: nengo objects per node name; ``current_node``: the node
    of injected currents (None without currents); ``probes``: per probe name the nengo
    probe; ``spike_probes``: per recorded node its nengo probe of spikes and recorded
    indices; ``maps``: per population its :class:`NeuronMap`; ``stimulus``: the inputs.
    """

    concrete: Concrete
    dt: float
    stimulus: Stimulus
    ensembles: dict = field(default_factory=dict)
    source_nodes: dict = field(default_factory=dict)
    current_node: object = None
    probes: dict = field(default_factory=dict)
    spike_probes: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)
    report: MappingReport | None = None
    learning: dict = field(default_factory=dict)  # projection -> (weights probe, its synapses, scale)
    dendrites: dict = field(default_factory=dict)  # population -> its snn.htm.spiking.SegmentLayer
    connections: dict = field(default_factory=dict)  # projection -> its nengo.Connection
    scales: dict = field(default_factory=dict)  # projection -> nengo transform units per unit of our weight

    def input_data(self, n_steps: int) -> dict:
        """Every input node's output for ``n_steps`` steps from the start, ``(n_steps, size)``
        per nengo node (spikes as ``1/dt`` pulses, currents in A): nengo-dl's ``data``."""
        stimulus = Stimulus(self.concrete.network, self.dt, self.concrete.seed)
        spikes, currents = stimulus.rows(0, n_steps)
        data = {node: spikes[:, stimulus.source_columns(name)] / self.dt
                for name, node in self.source_nodes.items()}  # fmt: skip
        if self.current_node is not None:
            data[self.current_node] = currents
        return data


def _node_output(stimulus: Stimulus, dt: float, columns: slice | None):
    """A nengo node function returning our step ``round(t/dt) - 1``'s row."""

    def output(t: float) -> np.ndarray:
        step = int(round(t / dt)) - 1
        spikes, currents = stimulus.rows(step, step + 1)
        return spikes[0, columns] / dt if columns is not None else currents[0]

    return output


def _segments_output(layer, dt: float):
    """A nengo node function driving a :class:`~snn.htm.spiking.SegmentLayer`: its input is
    the cells' spikes of our step ``round(t/dt) - 1``; at a cycle's last step it returns the
    plateau (as 1/dt pulses, like a spike) for the cells the segments predict and then (when
    the layer has interneurons) for their columns' interneurons, else zeros. A trained
    memory's prediction is output before the first step (as the simulator puts it in)."""
    p = layer.segments.params
    size = p.cells + (p.columns if layer.segments.interneurons is not None else 0)
    cycle, plateau = layer.segments.cycle_steps, layer.segments.plateau

    def plateaus(cells: np.ndarray) -> np.ndarray:
        out = np.zeros(size)
        out[cells] = plateau / dt
        out[p.cells + layer.interneuron_columns(cells)] = plateau / dt
        return out

    def output(t: float, spikes: np.ndarray) -> np.ndarray:
        step = int(round(t / dt)) - 1
        if step < 0:
            return np.zeros(size)
        layer.fire(np.flatnonzero(spikes))
        if (step + 1) % cycle == 0:
            return plateaus(layer.end_cycle())
        return np.zeros(size)

    return output, plateaus(layer.memory.predictive_cells), size


def _sparse(matrix_shape, post, pre, values):
    import nengo
    import scipy.sparse

    matrix = scipy.sparse.coo_matrix((values, (post, pre)), shape=matrix_shape).tocsr()  # duplicates summed
    return nengo.transforms.Sparse(matrix_shape, init=matrix)


def build_nengo(network: Network, dt: float, seed: int = 0, *, backend: str = NAME, learning_rules=None,
                native: bool = True):  # fmt: skip
    """Translate ``network`` for step ``dt`` (s) and ``seed`` into ``(nengo.Network,
    NengoHandles)``; see the module docstring for the mapping. Raises
    :class:`snn.UnsupportedFeature` naming ``backend`` before building anything it cannot
    express.

    ``learning_rules``: per projection name, a function of the projection's transform scale
    (nengo units per unit of our weight) returning a nengo learning rule for it (e-prop's,
    :mod:`hardware.nengo_eprop`); such projections get dense transforms. Every projection's
    connection and transform scale are in ``handles.connections`` and ``handles.scales``.
    ``native=False``: every linear model runs as the reference's own step (``LinearNeurons``),
    nengo.LIF included, so spikes match the reference one for one (nengo.LIF places spikes
    within a step, rates agree within a few percent)."""
    learning_rules = learning_rules or {}
    check(network, backend)
    import nengo

    lowered = concrete(network, dt, seed)
    from hardware.nengo_rules import check_pairs

    check_pairs(lowered, backend)  # needs the drawn synapses, so after check(); before building
    stimulus = Stimulus(network, dt, seed)
    report = MappingReport(backend=backend, neurons=network.n_neurons, synapses=lowered.n_synapses)
    handles = NengoHandles(concrete=lowered, dt=dt, stimulus=stimulus, report=report)
    model = nengo.Network(label=network.name, seed=seed)
    with model:
        kinds = {name: nengo_kind(network, name, native) for name in network.populations}
        for pop in network.populations.values():
            m = pop.model
            kind = kinds[pop.name]
            mapped = neuron_map(m, lowered.initial_v[pop.name], dt, kind)
            handles.maps[pop.name] = mapped
            if kind == OWN_STEP:
                from hardware.nengo_neurons import linear_neurons

                neuron_type = linear_neurons(m, dt, mapped.initial, lowered.initial_w[pop.name])
                report.converted.append(
                    f"{pop.name}: {type(m).__name__} -> LinearNeurons (the reference's step; J = the step's "
                    f"synaptic drive in V, {mapped.input_gain:.6g} V per A of injected current)"
                )
            elif m.kernel != LINEAR:
                from hardware.nengo_neurons import model_neurons

                neuron_type = model_neurons(m, dt, mapped.initial, lowered.initial_w[pop.name])
                report.converted.append(
                    f"{pop.name}: {type(m).__name__} -> ModelNeurons (its own step, substeps "
                    f"{m.substeps}); J = input current (A), voltage = v (V), adaptation = "
                    f"{m.state_variables[1]}"
                )
            elif isinstance(m, IF):
                neuron_type = nengo.SpikingRectifiedLinear(initial_state={"voltage": mapped.initial})
                report.converted.append(
                    f"{pop.name}: IF(C={m.capacitance} F, reset subtract) -> SpikingRectifiedLinear, "
                    f"J = (i_bias + I) / (C (v_th - v_reset)), bias {mapped.bias:.6g}"
                )
            else:
                neuron_type = nengo.LIF(
                    tau_rc=m.tau_mem,
                    tau_ref=m.tau_ref,
                    min_voltage=-np.inf,
                    initial_state={"voltage": mapped.initial, "refractory_time": np.zeros(pop.size)},
                )
                report.converted.append(
                    f"{pop.name}: LIF tau_mem {m.tau_mem} s -> tau_rc {m.tau_mem}, tau_ref {m.tau_ref} s, "
                    f"V = (v - {m.v_reset}) / {mapped.span:.6g}, bias {mapped.bias:.6g}, "
                    f"J per A {mapped.input_gain:.6g}, min_voltage -inf"
                )
            handles.ensembles[pop.name] = nengo.Ensemble(
                pop.size,
                dimensions=1,
                neuron_type=neuron_type,
                gain=np.ones(pop.size),
                bias=np.full(pop.size, mapped.bias),
                label=pop.name,
            )
        for name, source in network.sources.items():
            handles.source_nodes[name] = nengo.Node(
                _node_output(stimulus, dt, stimulus.source_columns(name)), size_out=source.size, label=name
            )
            report.converted.append(f"{name}: {type(source).__name__} -> nengo.Node of 1/dt spikes")
        if stimulus.n_currents:
            handles.current_node = nengo.Node(
                _node_output(stimulus, dt, None), size_out=stimulus.n_currents, label="currents"
            )
            targets = stimulus.schedules.cur_target
            for name, (begin, size) in stimulus.ranges.items():
                if name not in network.populations:
                    continue
                columns = np.flatnonzero((targets >= begin) & (targets < begin + size))
                if columns.size:
                    gain = handles.maps[name].input_gain
                    nengo.Connection(
                        handles.current_node,
                        handles.ensembles[name].neurons,
                        transform=_sparse(
                            (size, stimulus.n_currents),
                            targets[columns] - begin,
                            columns,
                            np.full(columns.size, gain),
                        ),  # fmt: skip
                        synapse=None,
                    )
            report.converted.append(
                "injected currents -> nengo.Node into J (no synapse), R / (v_th - v_reset)"
            )
        for synapses in lowered.synapses:
            projection = synapses.projection
            post = network.populations[projection.post]
            effective = effective_synapse(network, projection)  # a CubaLIF's own current
            scale = transform_scale(post.model, effective, dt, handles.maps[post.name])
            if projection.pre in handles.ensembles:
                pre_obj, n_pre = (
                    handles.ensembles[projection.pre].neurons,
                    network.populations[projection.pre].size,
                )
            else:
                pre_obj, n_pre = handles.source_nodes[projection.pre], network.sources[projection.pre].size
            if isinstance(effective, Exponential):
                synapse = nengo.Lowpass(effective.tau_syn)
                what = f"Exponential(tau_syn={effective.tau_syn}) -> Lowpass"
            else:
                synapse = nengo.LinearFilter(*ONE_STEP_DELTA)
                what = "Delta -> one-step discrete pass-through filter"
            rule = None  # nengo learns on dense transforms only
            if projection.name in learning_rules:  # a rule given for this run
                if projection.pre not in handles.ensembles:  # nengo's rules read presynaptic neurons
                    from hardware.nengo_neurons import relay

                    pre_obj = relay(pre_obj, n_pre, dt)
                rule = learning_rules[projection.name](scale)
                what += f", {type(rule).__name__} (given for this run)"
            elif projection.plasticity is not None:
                from hardware.nengo_rules import learning_rule

                rule = learning_rule(nengo, projection.plasticity, scale)
                what += f", {type(projection.plasticity).__name__} -> nengo.{type(rule).__name__}"
            transform = (
                _sparse((post.size, n_pre), synapses.post, synapses.pre, synapses.weights * scale)
                if rule is None
                else synapses.dense(n_pre, post.size) * scale
            )
            post_obj = handles.ensembles[projection.post].neurons
            connection = nengo.Connection(pre_obj, post_obj, transform=transform, synapse=synapse,
                                          learning_rule_type=rule)  # fmt: skip
            handles.connections[projection.name], handles.scales[projection.name] = connection, scale
            if projection.plasticity is not None:
                handles.learning[projection.name] = (nengo.Probe(connection, "weights"), synapses, scale)
            report.converted.append(f"{projection.name}: {what}, transform = weight x {scale:.6g}")
        for pop in network.populations.values():
            if pop.dendrites is None:
                continue
            from snn.htm.spiking import SegmentLayer
            from snn.synapses import Delta

            layer = handles.dendrites[pop.name] = SegmentLayer(pop.dendrites)
            cells = handles.ensembles[pop.name].neurons
            function, _, size = _segments_output(layer, dt)
            node = nengo.Node(function, size_in=pop.size, size_out=size, label=f"{pop.name}_segments")
            nengo.Connection(cells, node, synapse=None)
            targets = [(pop.name, slice(0, pop.size))]
            if pop.dendrites.interneurons is not None:
                targets.append((pop.dendrites.interneurons, slice(pop.size, size)))
            for target, part in targets:
                scale = transform_scale(network.populations[target].model, Delta(), dt, handles.maps[target])
                nengo.Connection(node[part], handles.ensembles[target].neurons, transform=scale,
                                 synapse=nengo.LinearFilter(*ONE_STEP_DELTA))  # fmt: skip
            report.converted.append(
                f"{pop.dendrites.describe(pop.name)} -> nengo.Node {node.label!r} running "
                f"snn.htm.spiking.SegmentLayer on the cells' spikes; plateau = a delta input into the "
                f"predicted cells{' and their columns interneurons' if size > pop.size else ''}"
            )
        for probe in network.probes:
            if probe.variable == PROBE_SPIKES:
                target = handles.ensembles.get(probe.target)
                obj = target.neurons if target is not None else handles.source_nodes[probe.target]
                if probe.target not in handles.spike_probes:
                    handles.spike_probes[probe.target] = (nengo.Probe(obj, synapse=None), set())
                size = network.node_size(probe.target, "probe")
                chosen = range(size) if probe.neurons is None else probe.neurons.tolist()
                handles.spike_probes[probe.target][1].update(chosen)
            else:
                handles.probes[probe.name] = nengo.Probe(
                    handles.ensembles[probe.target].neurons,
                    "adaptation" if probe.variable in SECOND_STATE else "voltage",
                    synapse=None,
                    sample_every=probe.every * dt,
                )
    if any(isinstance(s, (SPIKE_SOURCES[0], SPIKE_SOURCES[2])) for s in network.sources.values()):
        report.approximated.append(
            "Poisson / rate-coded spikes are drawn by this adapter from the seed's stream in the "
            "reference's order (nengo's own Poisson process is not used)"
        )
    if any(kinds[n] == NATIVE and isinstance(p.model, LIF) and p.model.tau_ref > 0
           for n, p in network.populations.items()):  # fmt: skip
        report.approximated.append(
            "nengo's LIF starts tau_ref at the interpolated spike time (reference: whole steps after "
            "the spike step): inter-spike intervals differ by < dt"
        )
    report.refused += capabilities().refusals()
    return model, handles


# ---- reading results back ------------------------------------------------------------
def collect(network: Network, handles: NengoHandles, data: Mapping, n_steps: int, timing: dict,
            backend: str, versions: dict) -> Result:  # fmt: skip
    """An :class:`snn.Result` from probe arrays ``data[nengo_probe]`` (steps first)."""
    dt = handles.dt
    spikes = {}
    for node, (probe, chosen) in handles.spike_probes.items():
        counts = np.rint(np.asarray(data[probe])[:n_steps] * dt).astype(np.int64)
        keep = np.zeros(counts.shape[1], dtype=bool)
        keep[sorted(chosen)] = True
        counts[:, ~keep] = 0
        steps, ids = np.nonzero(counts)
        repeats = counts[steps, ids]  # SpikingRectifiedLinear can spike more than once a step
        spikes[node] = (np.repeat(steps, repeats) * dt, np.repeat(ids, repeats).astype(np.int64))
    traces = {}
    for probe in network.probes:
        if probe.variable == PROBE_SPIKES:
            continue
        mapped = handles.maps[probe.target]
        values = np.asarray(data[handles.probes[probe.name]])[: n_steps // probe.every]
        if probe.variable in SECOND_STATE:  # kept unscaled
            mapped = NeuronMap.unscaled(mapped.initial)
        neurons = (
            np.arange(network.populations[probe.target].size) if probe.neurons is None else probe.neurons
        )
        t = (np.arange(values.shape[0]) + 1) * probe.every * dt
        traces[probe.name] = Trace(
            t=t,
            values=mapped.v_reset + mapped.span * values[:, neurons],
            neurons=neurons,
            target=probe.target,
            variable=probe.variable,
        )
    sizes = {**{n: p.size for n, p in network.populations.items()},
             **{n: s.size for n, s in network.sources.items()}}  # fmt: skip
    metadata = {
        "backend": backend,
        "dt": dt,
        "seed": handles.concrete.seed,
        "n_steps": n_steps,
        "neurons": network.n_neurons,
        "synapses": handles.concrete.n_synapses,
        **timing,
        "mapping": handles.report.to_dict() if handles.report else {},
        "versions": versions,
    }
    for name, layer in handles.dendrites.items():  # as snn.Simulator reports them
        ends = np.arange(1, len(layer.anomalies) + 1) * layer.segments.cycle_steps
        traces[f"{name}_anomaly"] = layer.anomaly_trace(name, ends * dt)
    if handles.dendrites:
        metadata["dendrites"] = {name: layer.summary() for name, layer in handles.dendrites.items()}
    weights = {  # the transform at the last step, back in our units, in the projection's order
        name: np.asarray(data[probe])[n_steps - 1][synapses.post, synapses.pre] / scale
        for name, (probe, synapses, scale) in handles.learning.items()
    }
    return Result(
        spikes=spikes, traces=traces, sizes=sizes, duration=n_steps * dt, metadata=metadata, weights=weights
    )


def versions(**extra: str) -> dict:
    """Package versions for a Result's metadata."""
    import nengo

    from snn import __version__

    return {
        "neurobridge": __version__,
        "nengo": nengo.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        **extra,
    }


class NengoBackend(Backend):
    """Runs the network in the reference ``nengo.Simulator`` (NumPy). ``native_lif=False``:
    plain LIF populations too run the reference's step (spike for spike), not ``nengo.LIF``."""

    name = NAME

    def __init__(self, native_lif: bool = True) -> None:
        self.native_lif = bool(native_lif)

    def capabilities(self) -> Capabilities:
        return capabilities()

    def check(self, network: Network) -> None:
        check(network, self.name, self.capabilities())  # nengo-dl's table where it differs

    def _simulate(
        self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None
    ) -> Result:
        import nengo

        start = time.perf_counter()
        model, handles = build_nengo(network, dt, seed, native=self.native_lif)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        # nengo derives max rates from the given gain and bias, dividing by zero for a zero bias
        with (
            np.errstate(divide="ignore", invalid="ignore"),
            nengo.Simulator(model, dt=dt, seed=seed, progress_bar=bool(progress)) as sim,
        ):
            compile_s = time.perf_counter() - start
            start = time.perf_counter()
            sim.run_steps(n_steps, progress_bar=bool(progress))
            run_s = time.perf_counter() - start
            data = {probe: sim.data[probe] for probe in model.all_probes}
        timing = {"build_s": build_s, "compile_s": compile_s, "run_s": run_s}
        return collect(network, handles, data, n_steps, timing, self.name, versions())

    def deploy(self, network: Network, out, *, dt: float = 1e-4, duration: float = 1.0, seed: int = 0):
        """A runnable script beside the network's TOML; see :func:`deploy_script`."""
        return deploy_script(self, network, out, dt, duration, seed)


SCRIPT = '''"""Run network {name!r} on the {backend} backend (written by `snn deploy`).

`model` is the nengo.Network neurobridge builds from model.toml (dt = {dt} s, seed = {seed});
inspect or extend it, or run this file to simulate {duration} s and print the firing rates.
"""

from pathlib import Path

import hardware
import snn
from hardware.nengo import build_nengo

DT, SEED, DURATION = {dt!r}, {seed!r}, {duration!r}
network, _ = snn.load_toml(Path(__file__).with_name("model.toml"))
model, handles = build_nengo(network, DT, SEED)

if __name__ == "__main__":
    result = hardware.get({backend!r}).run(network, DURATION, dt=DT, seed=SEED)
    for node in result.spikes:
        print(f"{{node}}: {{result.mean_rate([node]):.3f}} Hz")
'''


def deploy_script(
    backend: Backend, network: Network, out, dt: float, duration: float, seed: int
) -> MappingReport:
    """Write ``<out>/model.toml``, ``<out>/run_{backend}.py`` and the mapping report; the
    network is built once first, so a part the backend refuses fails before any file exists."""
    from pathlib import Path

    from snn.atomic import staged
    from snn.config import SimulationDefaults, save_toml

    validate.steps(duration, dt)
    backend.check(network)  # its own table (nengo-dl's differs), before anything is built
    _, handles = build_nengo(network, dt, seed, backend=backend.name)
    report = handles.report
    script = f"run_{backend.name.replace('-', '_')}.py"
    report.files = ["model.toml", script, "mapping_report.md", "mapping_report.json"]
    text = SCRIPT.format(name=network.name, backend=backend.name, dt=dt, seed=seed, duration=duration)
    with staged(Path(out)) as staging:
        save_toml(network, staging / "model.toml", SimulationDefaults(dt=dt, duration=duration, seed=seed))
        (staging / script).write_text(text)
        report.write(staging)
    return report


__all__ = [
    "NengoBackend",
    "deploy_script",
    "build_nengo",
    "capabilities",
    "check",
    "neuron_map",
    "transform_scale",
]
