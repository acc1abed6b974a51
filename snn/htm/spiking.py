r"""Dendritic-segment neurons: a temporal memory run as a spiking network on the simulator.

A population with :class:`DistalSegments` is a column-organised layer of LIF somata
(``columns x cells_per_column`` cells) whose distal dendrites are the segments of a
temporal memory (:mod:`snn.htm.temporal_memory`). The spikes decide which cells are active;
the segments learn from those spikes and depolarise the soma of the cells they predict.

One temporal-memory step is a *cycle* of ``cycle_steps`` simulator steps (``S``, default
5; steps ``n S .. n S + S - 1`` are cycle ``n``). With ``a = exp(-dt / tau_mem)`` and the
soma of :func:`soma` (``tau_mem = 2 dt``, so ``a = 0.607``; rest and reset 0; threshold
``v_th``; refractory for one step), each delta input ``s`` arriving for step ``k`` gives
``v_k = a (v_{k-1} + s)`` (:mod:`snn.models.lif`), and a cycle runs:

- **step 0**: the segments that became active at the end of the previous cycle put a
  plateau ``PLATEAU v_th`` into their cells (a dendritic NMDA plateau: ``a 1.1 = 0.67`` of
  threshold, sub-threshold on its own), and into their column's inhibitory interneuron;
  the feed-forward input fires its active columns (two spikes, at steps 0 and 1:
  :func:`column_input`) into every cell of the column and into its interneuron;
- **step 1**: each feed-forward spike adds ``FEEDFORWARD v_th``. A depolarised (predicted)
  cell crosses: ``a^2 1.1 + a 1.3 = 1.19 v_th``; the others stay below: ``a 1.3 = 0.79
  v_th``. The interneuron of a predicted column is depolarised too, and fires with them;
- **step 2**: the second feed-forward spike takes the undepolarised cells over threshold
  (``a (0.79 + 1.3) = 1.27 v_th``), unless their column's interneuron fired at step 1: its
  spike inhibits every cell of the column by ``INHIBITION v_th`` (``a (0.79 + 1.3 - 3) =
  -0.55 v_th``; the cells that fired are refractory and lose it). So a predicted column
  fires only its predicted cells, and a column without a prediction *bursts*, all its
  cells firing one step later. One interneuron per column makes the inhibition the same
  however many cells were predicted (the cells inhibiting each other directly would give
  ``-3 n``: seven predicted cells of eight left the eighth unable to fire for three cycles);
- steps 3 .. S - 1: every soma relaxes towards rest (after ``S = 5`` steps an inhibited
  cell is back to ``-0.2 v_th``, and the next cycle's margins stay above ``0.1 v_th``;
  :func:`margins` computes them).

At the end of a cycle the segments (:meth:`SegmentLayer.end_cycle`) read which cells fired,
take the columns with a firing cell as the active columns, learn exactly as the array
temporal memory does from those active cells (:func:`snn.htm.tm_kernels.compute` with the
spikes), and count their synapses from the cells that fired: the cells with an active
segment receive the next cycle's plateau. Run on the same columns, the spiking network and
:class:`~snn.htm.temporal_memory.TemporalMemory` have the same active and predictive cells
(tested; the learning is the same code).

What runs where: the somata, feed-forward and inhibitory synapses are an ordinary LIF
population and projections (every backend that runs LIF runs them); the segments run on
:class:`snn.Simulator` and on the nengo adapter (a ``nengo.Node`` running this module's
:class:`SegmentLayer`); backends without them refuse the population in their pre-flight
check, naming its segment and synapse counts.

>>> import numpy as np, snn
>>> from snn.htm import TemporalMemoryParameters
>>> from snn.htm.spiking import add_temporal_memory, column_input
>>> params = TemporalMemoryParameters(columns=64, cells_per_column=4, activation_threshold=3,
...                                   min_threshold=2, max_new_synapses=4)
>>> sequence = [np.arange(4) + 4 * k for k in range(4)] * 20  # A B C D A B C D ...
>>> net = snn.Network()
>>> _ = net.add(column_input("columns", sequence, params.columns, dt=1e-3))
>>> _ = add_temporal_memory(net, "tm", "columns", params, dt=1e-3)
>>> sim = snn.Simulator(net, dt=1e-3, progress=False)
>>> result = sim.run(len(sequence) * 5e-3)
>>> result.traces["tm_anomaly"].values[-4:, 0]  # the last repetition is predicted
array([0., 0., 0., 0.])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.htm.temporal_memory import TemporalMemory, TemporalMemoryParameters

__all__ = [
    "CYCLE_STEPS", "DistalSegments", "SegmentLayer", "add_temporal_memory", "column_input", "margins", "soma",
]  # fmt: skip

#: Simulator steps per temporal-memory step (the cycle in the module docstring)
CYCLE_STEPS = 5
#: The soma's membrane time constant in steps of dt, and its refractory period
MEMBRANE_STEPS = 2.0
REFRACTORY_STEPS = 1
#: Delta inputs in units of the threshold: feed-forward (per spike, two per cycle), the
#: dendritic plateau of a predicted cell, and the column interneuron's inhibition of its cells
FEEDFORWARD = 1.3
PLATEAU = 1.1
INHIBITION = 3.0
#: Threshold of :func:`soma` (V above rest)
V_TH = 0.02


def soma(dt: float, v_th: float = V_TH):
    """The LIF soma of a dendritic-segment cell for step ``dt`` (s): ``tau_mem = 2 dt``,
    refractory for one step, rest and reset at 0 V, threshold ``v_th`` (V)."""
    from snn.models.lif import LIF

    dt = validate.positive("soma.dt", dt)
    return LIF(tau_mem=MEMBRANE_STEPS * dt, tau_ref=REFRACTORY_STEPS * dt, v_rest=0.0, v_reset=0.0,
               v_th=validate.positive("soma.v_th", v_th))  # fmt: skip


def margins(cycle_steps: int = CYCLE_STEPS) -> dict[str, float]:
    """How far each cell's potential stays from threshold (units of ``v_th``; all must be > 0
    for the spiking layer to be the temporal memory), in the worst case of the residue
    left by the previous cycle (an inhibited cell: the lowest start; a cell depolarised in
    every earlier cycle without firing: the highest).

    Keys: ``predicted_fires`` (a predicted active cell at step 1), ``unpredicted_waits``
    (an undepolarised active cell at step 1), ``burst_fires`` (step 2, not inhibited),
    ``inhibited_silent`` (step 2, inhibited), ``plateau_silent`` (a predicted cell of an
    inactive column)."""
    a = float(np.exp(-1.0 / MEMBRANE_STEPS))
    # the potential a cycle leaves, lowest: inhibited at step 2 in every cycle, relaxing to step
    # S - 1 (the fixed point of that residue)
    low = a * (a * FEEDFORWARD + FEEDFORWARD - INHIBITION) * a ** (cycle_steps - 3) / (1.0 - a**cycle_steps)
    # highest: the plateau in every cycle, never firing (the geometric series of its residue)
    high = PLATEAU * a**cycle_steps / (1.0 - a**cycle_steps)
    return {
        "predicted_fires": a * (a * (low + PLATEAU) + FEEDFORWARD) - 1.0,
        "unpredicted_waits": 1.0 - a * (a * high + FEEDFORWARD),
        "burst_fires": a * (a * (a * low + FEEDFORWARD) + FEEDFORWARD) - 1.0,
        "inhibited_silent": 1.0 - a * (a * (a * high + FEEDFORWARD) + FEEDFORWARD - INHIBITION),
        "plateau_silent": 1.0 - a * (high + PLATEAU),
    }


@dataclass(frozen=True, kw_only=True, eq=False)
class DistalSegments:
    """The distal dendrites of a population of dendritic-segment cells (see the module docstring).

    params:
        The temporal memory's settings; the population has ``params.cells`` neurons, cell
        ``column * cells_per_column + k``.
    dt:
        The step (s) the cells' soma (:func:`soma`) is built for; the simulator must run at it.
    plateau:
        The plateau a predicted cell's soma receives at the start of a cycle (V, a delta input).
    cycle_steps:
        Simulator steps per temporal-memory step (>= 4; see :func:`margins`).
    interneurons:
        The population of one inhibitory interneuron per column (its feed-forward input and its
        projection onto the column's cells come from :func:`add_temporal_memory`), which gets
        the plateau of every column with a predicted cell; None: no interneurons.
    learn:
        Whether the segments learn.
    memory:
        A temporal memory to start from (a trained one, with these ``params``); copied, so
        the given one is left as it was. None: no segments yet.
    """

    params: TemporalMemoryParameters
    dt: float
    plateau: float
    cycle_steps: int = CYCLE_STEPS
    learn: bool = True
    memory: TemporalMemory | None = None
    interneurons: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.params, TemporalMemoryParameters):
            raise ValidationError(
                "DistalSegments.params", f"must be TemporalMemoryParameters, got {type(self.params).__name__}"
            )
        object.__setattr__(self, "dt", validate.positive("DistalSegments.dt", self.dt))
        object.__setattr__(self, "plateau", validate.positive("DistalSegments.plateau", self.plateau))
        object.__setattr__(self, "cycle_steps", validate.count("DistalSegments.cycle_steps", self.cycle_steps,
                                                               low=4))  # fmt: skip
        worst = min(margins(self.cycle_steps).items(), key=lambda item: item[1])
        if worst[1] <= 0.0:
            raise ValidationError(
                "DistalSegments.cycle_steps",
                f"must be >= 4: with {self.cycle_steps} steps a cycle's residue breaks {worst[0]!r} "
                f"(margin {worst[1]:.3f} v_th)",
            )
        object.__setattr__(self, "learn", validate.flag("DistalSegments.learn", self.learn))
        if self.interneurons is not None:
            object.__setattr__(
                self, "interneurons", validate.name("DistalSegments.interneurons", self.interneurons)
            )
        if self.memory is not None and (
            not isinstance(self.memory, TemporalMemory) or self.memory.params != self.params
        ):
            raise ValidationError(
                "DistalSegments.memory", "must be None or a TemporalMemory with these params"
            )

    def counts(self) -> tuple[int, int]:
        """(segments, synapses) the population starts with."""
        if self.memory is None:
            return 0, 0
        return self.memory.n_segments, self.memory.n_synapses

    def describe(self, population: str) -> str:
        """One line for mapping reports and refusals."""
        segments, synapses = self.counts()
        p = self.params
        return (
            f"distal segments of {population!r} ({p.columns} columns x {p.cells_per_column} cells, "
            f"{segments} segments and {synapses} synapses at the start, up to {p.max_segments_per_cell} "
            f"segments per cell and {p.max_synapses_per_segment} synapses per segment)"
        )

    def check_population(self, field: str, size: int, model) -> None:
        """Refuse a population these dendrites cannot sit on."""
        from snn.models.lif import LIF

        if size != self.params.cells:
            raise ValidationError(
                f"{field}.size", f"must be columns x cells_per_column = {self.params.cells}, got {size}"
            )
        if type(model) is not LIF or model.integration != "exact":
            raise ValidationError(
                f"{field}.model", f"dendritic-segment cells have an exact LIF soma (snn.htm.spiking.soma), "
                f"got {model!r}",
            )  # fmt: skip


class SegmentLayer:
    """The running state of one population's :class:`DistalSegments`: its temporal memory,
    the cells that fired in the current cycle, and the raw anomaly score of each cycle.

    The simulator and the nengo adapter both drive it: :meth:`fire` with each step's spikes,
    :meth:`end_cycle` at the end of each cycle."""

    def __init__(self, segments: DistalSegments) -> None:
        self.segments = segments
        self.memory = (
            segments.memory.copy() if segments.memory is not None else TemporalMemory(segments.params)
        )
        self.fired = np.zeros(segments.params.cells, dtype=np.bool_)
        self.anomalies: list[float] = []
        self.active_cells: list[np.ndarray] = []  # per cycle, when keep_history
        self.predictive_cells: list[np.ndarray] = []
        self.keep_history = False
        self.learn = segments.learn  # may be switched between runs (train, then test)

    def interneuron_columns(self, cells: np.ndarray) -> np.ndarray:
        """The columns whose interneuron gets the plateau with predicted ``cells`` (none
        without interneurons)."""
        if self.segments.interneurons is None:
            return np.zeros(0, dtype=np.int64)
        return np.unique(cells // self.segments.params.cells_per_column)

    def summary(self) -> dict:
        """Segments, synapses and cycles so far, as a result's ``metadata["dendrites"]`` lists them."""
        return {"segments": self.memory.n_segments, "synapses": self.memory.n_synapses,
                "cycles": len(self.anomalies), "cycle_steps": self.segments.cycle_steps}  # fmt: skip

    def anomaly_trace(self, name: str, t: np.ndarray):
        """The :class:`snn.result.Trace` ``<name>_anomaly`` of the last ``t.size`` cycles'
        raw anomaly scores, at times ``t`` (s; each cycle's end)."""
        from snn.result import Trace

        scores = np.asarray(self.anomalies[len(self.anomalies) - t.size :], dtype=np.float64)
        return Trace(t=t, values=scores[:, None], neurons=np.zeros(1, dtype=np.int64), target=name,
                     variable="anomaly")  # fmt: skip

    def fire(self, cells: np.ndarray) -> None:
        """Cells (indices within the population) that spiked in this cycle."""
        self.fired[cells] = True

    def end_cycle(self) -> np.ndarray:
        """Learn from the cycle's spikes; return the cells predicted for the next cycle."""
        K = self.segments.params.cells_per_column
        active_cells = np.flatnonzero(self.fired)
        columns = np.unique(active_cells // K)
        self.anomalies.append(self.memory.compute(columns, learn=self.learn, fired=self.fired))
        self.fired[active_cells] = False
        predictive = self.memory.predictive_cells
        if self.keep_history:
            self.active_cells.append(active_cells)
            self.predictive_cells.append(predictive)
        return predictive


def column_input(name: str, steps, columns: int, dt: float, cycle_steps: int = CYCLE_STEPS):
    """A :class:`snn.SpikeSource` of ``columns`` channels firing each temporal-memory step's
    active columns (``steps[t]``: indices, or an :class:`~snn.htm.SDR`) twice, at the first
    two simulator steps of cycle ``t``."""
    from snn.htm.sdr import SDR
    from snn.inputs import SpikeSource

    columns = validate.count("column_input.columns", columns)
    dt = validate.positive("column_input.dt", dt)
    cycle_steps = validate.count("column_input.cycle_steps", cycle_steps, low=4)
    if isinstance(steps, (str, bytes, dict)) or not hasattr(steps, "__iter__"):
        raise ValidationError("column_input.steps", "must be a list of active-column index arrays (or SDRs)")
    times, ids = [], []
    for t, active in enumerate(steps):
        where = f"column_input.steps[{t}]"
        if isinstance(active, SDR):
            if active.size != columns:
                raise ValidationError(where, f"SDR of {active.size} bits, expected {columns} columns")
            cols = active.indices
        else:
            cols = validate.as_array(where, active).ravel()
            if cols.size and cols.dtype.kind not in "iu":
                raise ValidationError(where, f"must be integer column indices, got {cols.dtype}")
            cols = cols.astype(np.int64)
        if cols.size and (cols.min() < 0 or cols.max() >= columns):
            raise ValidationError(where, f"column indices must be in [0, {columns})")
        for offset in (0, 1):
            times.append(np.full(cols.size, (t * cycle_steps + offset) * dt))
            ids.append(cols)
    times = np.concatenate(times) if times else np.zeros(0)
    ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    return SpikeSource(name=name, size=columns, times=times, ids=ids)


def add_temporal_memory(
    network,
    name: str,
    input: str,
    params: TemporalMemoryParameters | None = None,
    *,
    dt: float,
    v_th: float = V_TH,
    cycle_steps: int = CYCLE_STEPS,
    learn: bool = True,
    memory: TemporalMemory | None = None,
):
    """Add a temporal memory of dendritic-segment cells to ``network``: population ``name``
    (:func:`soma` cells with :class:`DistalSegments`), population ``<name>_inhibitory`` (one
    interneuron per column), the feed-forward projections from the node ``input`` (one
    channel per column, e.g. :func:`column_input`) into both, and each interneuron's
    inhibition of its column's cells; return the cells' population. Run it with
    ``snn.Simulator(network, dt=dt)``."""
    from snn.connectivity import Sparse
    from snn.network import Population

    params = params if params is not None else TemporalMemoryParameters()
    if not isinstance(params, TemporalMemoryParameters):
        raise ValidationError(
            "add_temporal_memory.params", f"must be TemporalMemoryParameters, got {params!r}"
        )
    v_th = validate.positive("add_temporal_memory.v_th", v_th)
    interneurons = f"{name}_inhibitory"
    dendrites = DistalSegments(params=params, dt=dt, plateau=PLATEAU * v_th, cycle_steps=cycle_steps,
                               learn=learn, memory=memory, interneurons=interneurons)  # fmt: skip
    n_input = network.node_size(input, "add_temporal_memory.input")
    if n_input != params.columns:
        raise ValidationError(
            "add_temporal_memory.input",
            f"{input!r} has {n_input} channels, expected one per column ({params.columns})",
        )
    population = network.add(
        Population(name=name, size=params.cells, model=soma(dt, v_th), dendrites=dendrites)
    )
    network.add(Population(name=interneurons, size=params.columns, model=soma(dt, v_th)))
    K = params.cells_per_column
    cells, columns = np.arange(params.cells), np.arange(params.columns)
    network.connect(input, name, Sparse(pre=cells // K, post=cells, weights=FEEDFORWARD * v_th),
                    name=f"{name}_feedforward")  # fmt: skip
    network.connect(input, interneurons, Sparse(pre=columns, post=columns, weights=FEEDFORWARD * v_th),
                    name=f"{interneurons}_feedforward")  # fmt: skip
    network.connect(interneurons, name, Sparse(pre=cells // K, post=cells, weights=-INHIBITION * v_th),
                    name=f"{name}_inhibition")  # fmt: skip
    return population
