r"""The Brian2 backend: the network written out as Brian2 equations, run on any target.

Each population becomes a ``NeuronGroup`` whose equations are generated from its model
(units applied: volt, amp, ohm, farad, second), each projection a ``Synapses`` object
holding exactly the synapses :func:`hardware.lowering.concrete` drew for the seed, and
every spike source a ``SpikeGeneratorGroup`` replaying the reference simulator's own input
spikes (Poisson draws included, see :func:`hardware.lowering.source_spikes`). Targets:
``numpy`` and ``cython`` (runtime) and ``cpp_standalone`` (build directory in a temporary
directory, removed afterwards).

Equations. Each model's continuous-time equations are in its module (:mod:`snn.models`).
AdEx and Izhikevich carry theirs as Brian2 strings (``model.equations``, ``units``,
``threshold``, ``reset_code``), used verbatim. The linear models (LIF, ALIF, IF, LI,
CubaLIF) become one ``dv/dt`` in ``v`` with the input current ``i_syn + i_ext + i_bias``,
where ``i_syn`` is the sum of one exponentially decaying current per synaptic channel,
integrated with Brian2's ``exact`` method, which is the reference simulator's
exponential integration. The reference simulator's conventions are reproduced, not
approximated:

* **Refractoriness.** The reference holds ``v`` for ``ref_steps = round(tau_ref / dt)``
  steps *after* the step that spiked; Brian2's ``refractory=T`` holds it while
  ``timestep(t - lastspike) < timestep(T)``, which counts the spiking step itself, so a
  population gets ``refractory = (ref_steps + 1) dt``. Populations that receive delta
  synapses (and IF populations, whose step is written out) track the hold in a variable of
  their own instead, because Brian2 also blocks synaptic writes to ``v`` on the hold's
  last step, where the reference lets the jump through.
* **Order within a step.** The reference resets before it propagates spikes, so the
  network's schedule is ``start, groups, thresholds, resets, synapses, end`` (Brian2's
  default runs synapses before resets).
* **Delta synapses.** A spike arriving while the target is refractory at the next step is
  lost (as in NEST): ``on_pre = "v_post += w * int(refractory_left_post <= 0)"``, the
  reference's countdown (:func:`snn.models.lif.holding`) after this step's reset.
* **ALIF.** The threshold ``v_th + beta b`` uses ``b`` from the end of the previous step,
  and ``b <- rho b + (1 - rho) z`` runs at the end of each step (``run_regularly``), as in
  the reference, rather than as an ODE that would decay ``b`` before the threshold test.
* **Injected currents** are piecewise constant per step: ``i_ext`` is a parameter set at
  the start of each step from a ``TimedArray`` sampled at the schedule's common interval.
* **Probes** record at the end of a step, so a trace sample at Brian2 time ``t`` is the
  reference's sample at ``t + dt``.

Spike times agree with the reference's to floating-point round-off of the two exact
integrators (tested: identical spike trains on a 100-neuron feedforward network).
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardware.base import Backend, Capabilities, MappingReport, ModelSupport, probe_variables
from hardware.brian2_rules import RULES_RUN
from hardware.lowering import Concrete, concrete, source_spikes
from snn import validate
from snn.build import effective_synapse, population_synapses
from snn.build.neurons import discrete_parameters
from snn.errors import ValidationError
from snn.network import PROBE_SPIKES, PROBE_WEIGHTS, Network
from snn.neurons import ALIF, IF, LI, MODELS
from snn.result import Result, Trace
from snn.synapses import Delta, Exponential

TARGETS = ("numpy", "cython", "cpp_standalone")
SCHEDULE = ["start", "groups", "thresholds", "resets", "synapses", "end"]


@dataclass
class Built:
    """The Brian2 objects of one network, and what to read back after the run."""

    objects: list = field(default_factory=list)
    groups: dict = field(default_factory=dict)  # node name -> NeuronGroup / SpikeGeneratorGroup
    spike_monitors: dict = field(default_factory=dict)  # node name -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)  # probe name -> (StateMonitor, probe, neurons)
    learning: dict = field(default_factory=dict)  # learning projection name -> its Synapses
    report: MappingReport | None = None


def _channels(network: Network, population: str) -> list[Exponential]:
    """The exponential synapse types into ``population``, in the reference builder's order."""
    return [s for s in population_synapses(network, population) if isinstance(s, Exponential)]


def _unit(b2, name: str):
    """A Brian2 unit from its name in a model's ``units`` table (``"volt"``, ``"1/second"``, ``"1"``)."""
    if name == "1":
        return 1
    if name.startswith("1/"):
        return 1 / getattr(b2, name[2:])
    return getattr(b2, name)


def _equation_group(b2, pop, channels: list[Exponential], dt: float, report: MappingReport):
    """A NeuronGroup generated from a nonlinear model's own equations (``model.equations``,
    ``units``, ``threshold``, ``reset_code``), integrated with Brian2's ``euler`` as the
    reference integrates them. Exponential channels are currents held for the step and
    decayed exactly after it, as in the reference (:mod:`snn.models.nonlinear`)."""
    from dataclasses import fields

    model = pop.model  # substeps = 1: its table refuses more before anything is built
    namespace = {
        f.name: getattr(model, f.name) * _unit(b2, model.units[f.name])
        for f in fields(model)
        if f.name in model.units
    }
    namespace.update(
        {name: value * _unit(b2, model.units[name]) for name, value in getattr(model, "fixed", {}).items()}
    )
    for c, syn in enumerate(channels):
        namespace[f"decay_{c}"] = math.exp(-dt / syn.tau_syn)
    lines = [f"d{var}/dt = {expr} : {model.units[var]}" for var, expr in model.equations.items()]
    lines += [f"I_{c} : amp" for c in range(len(channels))]
    i_syn = " + ".join(f"I_{c}" for c in range(len(channels))) or "0 * amp"
    lines += [f"i_syn = {i_syn} : amp", "i_ext : amp", "I = i_syn + i_ext : amp"]
    group = b2.NeuronGroup(
        pop.size, "\n".join(lines), threshold=model.threshold, reset=model.reset_code, method="euler",
        namespace=namespace, name=f"pop_{pop.name}",
    )  # fmt: skip
    objects = [group]
    if channels:  # after the state update, as the reference decays its slots after reading them
        decay = "\n".join(f"I_{c} = I_{c} * decay_{c}" for c in range(len(channels)))
        objects.append(group.run_regularly(decay, when="groups", order=1))
    report.converted.append(
        f"{pop.name}: {type(model).__name__} from its equations, Brian2 euler at dt = {dt:g} s "
        f"(the reference's forward Euler), threshold {model.threshold!r}"
    )
    return group, objects


def _neuron_group(
    b2, pop, channels: list[Exponential], dt: float, report: MappingReport, explicit_hold: bool
):
    """A NeuronGroup for population ``pop`` with one current per exponential channel,
    plus the operations that run with it (refractory flag, ALIF threshold update).

    ``explicit_hold``: track the refractory hold in a variable of our own (needed for delta
    synapses, whose jumps Brian2 would also block on the hold's last step, and for IF's
    written-out step); otherwise Brian2's own ``refractory`` does the same, cheaper."""
    model = pop.model
    if hasattr(model, "equations"):
        return _equation_group(b2, pop, channels, dt, report)
    namespace = {f"tau_{c}": syn.tau_syn * b2.second for c, syn in enumerate(channels)}
    currents = [f"dI_{c}/dt = -I_{c} / tau_{c} : amp" for c in range(len(channels))]
    i_syn = " + ".join(f"I_{c}" for c in range(len(channels))) or "0 * amp"
    integrate = []  # an explicit exact step, for equations Brian2's `exact` solver refuses
    if isinstance(model, IF):
        # dv/dt = (i_syn + i_ext + i_bias) / C: Brian2's linear solver cannot handle a v that
        # does not appear on the right-hand side, so the exact step is written out; it runs
        # before the channels decay, as the reference's does
        drive = None
        namespace["capacitance"] = model.capacitance * b2.farad
        for c, syn in enumerate(channels):  # charge of channel c over one step, per ampere
            namespace[f"gain_{c}"] = syn.tau_syn * -math.expm1(-dt / syn.tau_syn) * b2.second
        charge = " + ".join(["(i_ext + i_bias) * dt", *(f"I_{c} * gain_{c}" for c in range(len(channels)))])
        integrate = [f"v += free * ({charge}) / capacitance"]
    else:
        drive = "(v_rest - v + resistance * (i_syn + i_ext + i_bias)) / tau_mem"
        namespace.update(
            tau_mem=model.tau_mem * b2.second,
            v_rest=model.v_rest * b2.volt,
            resistance=model.resistance * b2.ohm,
        )
    namespace["i_bias"] = model.i_bias * b2.amp
    if isinstance(model, LI):
        lines = [f"dv/dt = {drive} : volt", *currents, f"i_syn = {i_syn} : amp", "i_ext : amp"]
        report.converted.append(f"{pop.name}: LI readout (no threshold)")
        group = b2.NeuronGroup(
            pop.size, "\n".join(lines), method="exact", namespace=namespace, name=f"pop_{pop.name}"
        )
        return group, [group]
    ref_steps = discrete_parameters(model, dt)["ref_steps"]
    namespace.update(v_th=model.v_th * b2.volt, v_reset=model.v_reset * b2.volt, ref_steps=ref_steps)
    threshold = "v > v_th"
    reset = "v = v - (v_th - v_reset)" if model.reset == "subtract" else "v = v_reset"
    adaptation = []
    if isinstance(model, ALIF):
        adaptation = ["b : 1", "fired : 1"]
        namespace.update(beta=model.beta * b2.volt, rho=discrete_parameters(model, dt)["rho"])
        threshold = "v > v_th + beta * b"
        reset += "\nfired = 1"
    common = dict(method="exact", namespace=namespace, name=f"pop_{pop.name}")
    if not explicit_hold:
        # Brian2's own hold: refractory = (ref_steps + 1) dt counts the spiking step itself
        lines = [
            f"dv/dt = {drive} : volt (unless refractory)",
            *currents,
            f"i_syn = {i_syn} : amp",
            "i_ext : amp",
        ]
        group = b2.NeuronGroup(
            pop.size,
            "\n".join(lines + adaptation),
            threshold=threshold,
            reset=reset,
            refractory=(ref_steps + 1) * dt * b2.second,
            **common,
        )
        objects = [group]
        how = f"Brian2 refractory {ref_steps + 1} dt"
    else:
        lines = [
            "v : volt" if drive is None else f"dv/dt = free * {drive} : volt",
            *currents,
            f"i_syn = {i_syn} : amp",
            "i_ext : amp",
            "free : 1  # 0 while refractory: v is held",
            "refractory_left : integer  # steps of the hold still to come (snn.models.lif.holding)",
        ]
        group = b2.NeuronGroup(
            pop.size,
            "\n".join(lines + adaptation),
            threshold=f"free > 0.5 and {threshold}",
            reset=reset + "\nrefractory_left = ref_steps",
            **common,
        )
        # the reference's countdown, in its order: tested, then counted down, at the step's start
        count_down = (
            "free = int(refractory_left <= 0)\n"
            "refractory_left = int(refractory_left > 0) * (refractory_left - 1)"
        )
        objects = [group, group.run_regularly(count_down, when="start")]
        objects += [group.run_regularly(code, when="groups", order=-1) for code in integrate]
        how = "an explicit hold"
    if isinstance(model, ALIF):
        objects.append(group.run_regularly("b = rho * b + (1 - rho) * fired\nfired = 0", when="end"))
    report.converted.append(
        f"{pop.name}: {type(model).__name__}, tau_ref {model.tau_ref:g} s -> v held {ref_steps} steps after "
        f"the spiking step ({how}), reset={model.reset!r}"
    )
    return group, objects


def _currents(b2, network: Network, groups: dict, dt: float, n_steps: int) -> list:
    """``i_ext`` of each targeted population: constant, or set each step from a TimedArray."""
    objects = []
    per_population: dict[str, list] = {}
    for current in network.currents:
        per_population.setdefault(current.target, []).append(current)
    for name, currents in per_population.items():
        size = network.populations[name].size
        steps = sorted({int(s) for c in currents for s in np.rint(c.times / dt)} | {0})
        interval = math.gcd(*steps, n_steps) or n_steps  # every change lands on a sample
        samples = -(-n_steps // interval)
        table = np.zeros((samples, size))
        for current in currents:
            neurons = np.arange(size) if current.neurons is None else current.neurons
            starts = np.rint(current.times / dt).astype(np.int64) // interval
            for row, first in enumerate(starts):
                last = starts[row + 1] if row + 1 < starts.size else samples
                if first < samples:
                    table[first:last, neurons] += np.broadcast_to(current.amplitudes[row], neurons.shape)
        group = groups[name]
        if samples == 1:
            group.i_ext = table[0] * b2.amp
            continue
        group.namespace["i_ext_table"] = b2.TimedArray(table * b2.amp, dt=interval * dt * b2.second)
        objects.append(
            group.run_regularly("i_ext = i_ext_table(t, i)", dt=interval * dt * b2.second, when="start")
        )
    return objects


def _synapses(b2, synapses, groups: dict, network: Network, dt: float, n_steps: int):
    """A Synapses object for one projection's concrete synapses, and the operations its
    learning rule runs every step (:mod:`hardware.brian2_rules`)."""
    projection = synapses.projection
    post = network.populations[projection.post]
    synapse = effective_synapse(network, projection)
    if isinstance(synapse, Exponential):
        channel = _channels(network, post.name).index(synapse)
        model, on_pre, namespace = "w : amp", f"I_{channel}_post += w", {}
        unit = b2.amp
    else:
        model, unit = "w : volt", b2.volt
        if isinstance(post.model, LI) or hasattr(post.model, "equations"):
            on_pre, namespace = "v_post += w", {}
        else:
            on_pre = "v_post += w * int(refractory_left_post <= 0)"  # free in the next step
            namespace = {}
    on_post, rule = None, None
    if projection.plasticity is not None:  # the rule's statements after the weight's delivery
        from hardware.brian2_rules import rule_equations

        rule = rule_equations(b2, projection.plasticity, unit, dt)
        model, on_pre, on_post = f"{model}\n{rule.model}", f"{on_pre}\n{rule.on_pre}", rule.on_post
        namespace = {**namespace, **rule.namespace}
        if rule.rates_pre is not None:  # a second pathway, without the synapses' delays
            on_pre = {"pre": on_pre, "rates": rule.rates_pre}
    group = b2.Synapses(
        groups[projection.pre],
        groups[projection.post],
        model=model,
        on_pre=on_pre,
        on_post=on_post,
        namespace=namespace,
        name=f"proj_{projection.name}",
    )
    group.connect(i=synapses.pre, j=synapses.post)
    group.w = synapses.weights * unit
    if np.any(synapses.delay_steps):
        group.pre.delay = synapses.delay_steps * dt * b2.second
    objects = []
    if rule is not None:
        for order, (when, statements) in enumerate(rule.each_step):
            objects.append(group.run_regularly(statements, when=when, order=order))
        objects += _rewards(b2, group, network, projection.name, dt, n_steps)
    return group, objects


def _rewards(b2, group, network: Network, projection: str, dt: float, n_steps: int) -> list:
    """The reward schedules of ``projection`` raising its shared dopamine ``d`` at the start
    of their steps (see :func:`hardware.brian2_rules.reward_table`)."""
    from hardware.brian2_rules import reward_table

    found = reward_table(network.rewards, projection, dt, n_steps)
    if found is None:
        return []
    table, interval = found
    group.namespace["reward_table"] = b2.TimedArray(table, dt=interval * dt * b2.second)
    return [group.run_regularly("d = d + reward_table(t)", dt=interval * dt * b2.second, when="start")]


def build_brian2(b2, lowered: Concrete, n_steps: int, seed: int) -> Built:
    """Create the Brian2 objects for ``lowered`` (a network drawn for dt and seed)."""
    network, dt = lowered.network, lowered.dt
    built = Built(
        report=MappingReport(backend="brian2", neurons=network.n_neurons, synapses=lowered.n_synapses)
    )
    for pop in network.populations.values():
        delta_inputs = any(
            p.post == pop.name and isinstance(effective_synapse(network, p), Delta)
            for p in network.projections
        )
        explicit = delta_inputs or isinstance(pop.model, IF)
        group, objects = _neuron_group(b2, pop, _channels(network, pop.name), dt, built.report, explicit)
        group.v = lowered.initial_v[pop.name] * b2.volt
        if hasattr(pop.model, "units"):  # a nonlinear model's second state, the reference's start
            name = pop.model.state_variables[1]
            setattr(group, name, lowered.initial_w[pop.name] * _unit(b2, pop.model.units[name]))
        built.groups[pop.name] = group
        built.objects += objects
    for name, (spike_steps, ids) in source_spikes(network, dt, n_steps, seed).items():
        source = network.sources[name]
        group = b2.SpikeGeneratorGroup(source.size, ids, spike_steps * dt * b2.second, name=f"src_{name}")
        built.groups[name] = group
        built.objects.append(group)
        built.report.converted.append(
            f"{name}: {type(source).__name__} -> SpikeGeneratorGroup replaying the reference's "
            f"{spike_steps.size} spikes"
        )
    built.objects += _currents(b2, network, built.groups, dt, n_steps)
    for synapses in lowered.synapses:
        if synapses.n_synapses:
            group, objects = _synapses(b2, synapses, built.groups, network, dt, n_steps)
            built.objects += [group, *objects]
            if synapses.projection.plasticity is not None:
                built.learning[synapses.projection.name] = group
    for probe in network.probes:
        if probe.variable == PROBE_WEIGHTS:  # sampled at the end of the step, as the reference does
            group = built.learning[probe.target]
            chosen = np.arange(len(group)) if probe.neurons is None else probe.neurons
            monitor = b2.StateMonitor(
                group, "w", record=chosen, when="end", order=10, name=f"probe_{probe.name}"
            )
            built.state_monitors[probe.name] = (monitor, probe, chosen)
            continue
        group = built.groups[probe.target]
        if probe.variable == PROBE_SPIKES:
            if probe.target not in built.spike_monitors:
                built.spike_monitors[probe.target] = b2.SpikeMonitor(group, name=f"spikes_{probe.target}")
            continue
        neurons = np.arange(group.N) if probe.neurons is None else probe.neurons
        # the reference samples v before the step's delta-synapse jumps land (they act from the
        # next step) and every other variable at the very end of the step
        when = "resets" if probe.variable == "v" else "end"
        monitor = b2.StateMonitor(
            group, probe.variable, record=neurons, when=when, order=10, name=f"probe_{probe.name}"
        )
        built.state_monitors[probe.name] = (monitor, probe, neurons)
    built.objects += list(built.spike_monitors.values()) + [m for m, _, _ in built.state_monitors.values()]
    return built


def _result(b2, built: Built, network: Network, dt: float, n_steps: int, metadata: dict) -> Result:
    recorded: dict[str, np.ndarray | None] = {}  # per node: the union of its spike probes' neurons
    for probe in network.probes:
        if probe.variable == PROBE_SPIKES:
            everyone = probe.neurons is None or (probe.target in recorded and recorded[probe.target] is None)
            so_far = recorded.get(probe.target, np.zeros(0, dtype=np.int64))
            recorded[probe.target] = None if everyone else np.union1d(so_far, probe.neurons)
    spikes = {}
    for name, monitor in built.spike_monitors.items():
        times = np.asarray(monitor.t[:] / b2.second, dtype=np.float64)
        ids = np.asarray(monitor.i[:], dtype=np.int64)
        steps = np.rint(times / dt).astype(np.int64)
        if recorded[name] is not None:
            keep = np.isin(ids, recorded[name])
            steps, ids = steps[keep], ids[keep]
        order = np.lexsort((ids, steps))
        spikes[name] = (steps[order] * dt, ids[order])
    traces = {}
    for name, (monitor, probe, neurons) in built.state_monitors.items():
        values = getattr(monitor, "w" if probe.variable == PROBE_WEIGHTS else probe.variable)[:]
        if probe.variable == PROBE_WEIGHTS:
            values = values / _weight_unit(b2, network, probe.target)
        values = np.asarray(values, dtype=np.float64).T  # (steps, neurons)
        rows = np.arange(probe.every - 1, n_steps, probe.every)  # the steps the reference samples
        traces[name] = Trace(
            t=(rows + 1) * dt,
            values=values[rows],
            neurons=np.asarray(neurons),
            target=probe.target,
            variable=probe.variable,
        )
    sizes = {name: network.node_size(name, "sizes") for name in [*network.populations, *network.sources]}
    weights = {
        name: np.asarray(group.w[:] / _weight_unit(b2, network, name), dtype=np.float64)
        for name, group in built.learning.items()
    }
    return Result(
        spikes=spikes, traces=traces, sizes=sizes, duration=n_steps * dt, metadata=metadata, weights=weights
    )


def _weight_unit(b2, network: Network, name: str):
    """The unit of projection ``name``'s weights: A into exponential synapses, else V."""
    projection = next(p for p in network.projections if p.name == name)
    return b2.amp if isinstance(effective_synapse(network, projection), Exponential) else b2.volt


class Brian2Backend(Backend):
    """Runs a network in Brian2. ``target``: ``"numpy"``, ``"cython"`` (runtime code
    generation, default) or ``"cpp_standalone"`` (a C++ project built and run in a
    temporary directory)."""

    MODELS_RUN = ("LIF", "ALIF", "IF", "LI", "CubaLIF", "AdEx", "Izhikevich")

    def __init__(self, target: str = "cython") -> None:
        if target not in TARGETS:
            raise ValidationError("brian2.target", f"must be one of {TARGETS}, got {target!r}")
        self.target = target
        self.name = {"numpy": "brian2-numpy", "cython": "brian2", "cpp_standalone": "brian2-standalone"}[
            target
        ]

    def capabilities(self) -> Capabilities:
        return Capabilities(
            neuron_models=self.MODELS_RUN,
            models={
                **{
                    name: ModelSupport(substeps=False, as_="NeuronGroup, euler")
                    for name in ("AdEx", "Izhikevich")
                },
                # the linear models' equations go to Brian2's exact solver
                **{
                    name: ModelSupport(integrations=("exact",), as_="NeuronGroup, exact")
                    for name in ("LIF", "ALIF", "LI", "CubaLIF")
                },
            },  # fmt: skip
            synapses=("Delta", "Exponential"),
            sources=("SpikeSource", "PoissonSource", "RateEncoder", "LatencyEncoder"),
            probe_variables=(
                *probe_variables(MODELS[name] for name in MODELS if name in self.MODELS_RUN),
                PROBE_WEIGHTS,
            ),
            currents=True,
            delays=True,
            plasticity=RULES_RUN,
            exact=True,
            notes=(
                f"target {self.target}",
                "spike sources replay the reference's draws, so runs match spike for spike",
            ),
        )

    def _simulate(
        self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None
    ) -> Result:
        import brian2 as b2

        start = time.perf_counter()
        lowered = concrete(network, dt, seed)
        with _device(b2, self.target) as directory:
            b2.defaultclock.dt = dt * b2.second
            built = build_brian2(b2, lowered, n_steps, seed)
            net = b2.Network(*built.objects)
            net.schedule = SCHEDULE
            build_s = time.perf_counter() - start
            if self.target == "cpp_standalone":
                start = time.perf_counter()
                net.run(n_steps * dt * b2.second, namespace={})
                b2.device.build(directory=directory, compile=True, run=True, debug=False)
                compile_s = time.perf_counter() - start - float(b2.device._last_run_time)
                run_s = float(b2.device._last_run_time)
            else:
                start = time.perf_counter()
                net.run(0 * b2.second, namespace={})  # code generation and compilation
                compile_s = time.perf_counter() - start
                start = time.perf_counter()
                net.run(n_steps * dt * b2.second, report="stdout" if progress else None, namespace={})
                run_s = time.perf_counter() - start
            metadata = {
                "backend": self.name,
                "target": self.target,
                "dt": dt,
                "seed": seed,
                "dtype": "float64",
                "t_start": 0.0,
                "n_steps": n_steps,
                "neurons": network.n_neurons,
                "synapses": lowered.n_synapses,
                "build_s": build_s,
                "compile_s": compile_s,
                "run_s": run_s,
                "versions": {"brian2": b2.__version__, "numpy": np.__version__},
            }
            return _result(b2, built, network, dt, n_steps, metadata)

    def deploy(
        self, network: Network, out: Path, *, dt: float = 1e-4, duration: float = 1.0, seed: int = 0
    ) -> MappingReport:
        """Write a ``cpp_standalone`` C++ project to the directory ``out`` (``make`` builds it,
        ``./main`` runs ``duration`` seconds), plus ``mapping_report.{md,json}``."""
        self.check(network)
        n_steps = validate.steps(duration, dt)
        import brian2 as b2

        from snn.atomic import staged

        lowered = concrete(network, dt, seed)
        with staged(Path(out)) as staging, _device(b2, "cpp_standalone", keep=staging) as directory:
            b2.defaultclock.dt = dt * b2.second
            built = build_brian2(b2, lowered, n_steps, seed)
            net = b2.Network(*built.objects)
            net.schedule = SCHEDULE
            net.run(n_steps * dt * b2.second, namespace={})
            b2.device.build(directory=directory, compile=False, run=False)
            report = built.report
            report.backend = "brian2 (cpp_standalone project)"
            report.files = ["main.cpp", "makefile", "mapping_report.md", "mapping_report.json"]
            report.write(staging)
        return report


class _device:
    """Brian2's device for one run, restored afterwards (Brian2 keeps a global device).

    ``cpp_standalone`` builds in ``keep`` when given, else in a temporary directory that
    is removed on exit."""

    def __init__(self, b2, target: str, keep: Path | None = None) -> None:
        self.b2, self.target, self.keep = b2, target, keep
        self.temporary: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> str | None:
        b2 = self.b2
        b2.start_scope()
        if self.target != "cpp_standalone":
            b2.set_device("runtime")
            b2.prefs.codegen.target = self.target
            return None
        if self.keep is None:
            self.temporary = tempfile.TemporaryDirectory(prefix="neurobridge-brian2-")
        directory = str(self.keep if self.keep is not None else self.temporary.name)
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        return directory

    def __exit__(self, *exc) -> None:
        b2 = self.b2
        if self.target == "cpp_standalone":
            b2.device.reinit()
            b2.device.activate()
            b2.set_device("runtime")
            if self.temporary is not None:
                self.temporary.cleanup()
