"""Temporal memory: sequence learning with Hebbian dendritic segments (HTM).

Columns of cells; each cell has distal segments, each segment synapses with a permanence in
[0, 1] onto other cells (connected when >= ``connected_permanence``). Given the sorted
active columns of step t (Hawkins & Ahmad 2016, "Why neurons have thousands of synapses";
the BAMI pseudocode; htm.core's defaults):

1. **Activate cells.** An active column with *active* segments (>= ``activation_threshold``
   connected synapses from the cells active at t - 1) is *predicted*: only the cells owning
   those segments fire, and each is a winner. A column without one *bursts*: all its cells
   fire; the winner is the cell of its best *matching* segment (>= ``min_threshold``
   synapses of any permanence from cells active at t - 1; most such synapses, first in
   (cell, creation) order), else its least used cell (fewest segments, ties at random).
2. **Learn** (when ``learn``). Each learning segment (the active segments of predicted
   columns, the best matching segment of a bursting column) moves its synapses from cells
   active at t - 1 up by ``permanence_increment`` and the others down by
   ``permanence_decrement``, then grows ``max_new_synapses - (its synapses from active
   cells)`` new synapses (``initial_permanence``) to winner cells of t - 1 it does not
   sample, chosen at random. A bursting column with no matching segment grows a new
   segment on its winner with ``min(max_new_synapses, winners at t - 1)`` synapses. Matching
   segments in columns that did not become active are punished: their synapses from
   active cells lose ``predicted_segment_decrement``. Synapses that reach 0 are removed, a
   segment without synapses is removed, a cell over ``max_segments_per_cell`` loses its
   least recently active segment, and a segment over ``max_synapses_per_segment`` its
   weakest synapses (structural plasticity).
3. **Activate dendrites.** Segments are counted against the cells active at t: active and
   matching segments for step t + 1, and the *predictive* cells (owners of active segments).

The raw anomaly score of step t is the fraction of active columns that contained no
predictive cell after step t - 1.

Each random choice draws from one SplitMix64 stream seeded by ``seed``, so the same seed and
inputs give the same cells and segments, bit for bit; :meth:`TemporalMemory.save` and
:meth:`TemporalMemory.load` round-trip the whole state exactly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.htm import tm_kernels as kernels
from snn.htm.encoders import splitmix64
from snn.htm.sdr import SDR, _whole

__all__ = ["TemporalMemory", "TemporalMemoryParameters"]

STATE_FORMAT = "neurobridge.temporal_memory/2"


@dataclass(frozen=True, kw_only=True)
class TemporalMemoryParameters:
    """Temporal memory settings (defaults: htm.core / the HTM literature).

    columns:
        Number of columns (>= 1); the input is a set of active columns.
    cells_per_column:
        Cells per column (>= 1).
    activation_threshold:
        Connected synapses from active cells that make a segment active (>= 1).
    min_threshold:
        Synapses (any permanence) from active cells that make a segment matching
        (1 .. activation_threshold).
    initial_permanence, connected_permanence:
        Permanence of a new synapse, and the level at which a synapse connects ([0, 1]).
    permanence_increment, permanence_decrement, predicted_segment_decrement:
        Hebbian steps of a learning segment, and the punishment of a wrongly predicting one
        ([0, 1]).
    max_new_synapses:
        Synapses a learning segment aims to have from the previous winner cells (>= 1).
    max_segments_per_cell, max_synapses_per_segment:
        Structural limits (>= 1; ``max_synapses_per_segment >= max_new_synapses``).
    seed:
        Seed of the random stream (>= 0).
    """

    columns: int = 2048
    cells_per_column: int = 32
    activation_threshold: int = 13
    min_threshold: int = 10
    initial_permanence: float = 0.21
    connected_permanence: float = 0.5
    permanence_increment: float = 0.1
    permanence_decrement: float = 0.1
    predicted_segment_decrement: float = 0.0
    max_new_synapses: int = 20
    max_segments_per_cell: int = 255
    max_synapses_per_segment: int = 255
    seed: int = 42

    def __post_init__(self) -> None:
        name = type(self).__name__
        _whole(self.columns, f"{name}.columns", low=1)
        _whole(self.cells_per_column, f"{name}.cells_per_column", low=1)
        _whole(self.activation_threshold, f"{name}.activation_threshold", low=1)
        _whole(self.min_threshold, f"{name}.min_threshold", low=1, high=self.activation_threshold)
        _whole(self.max_new_synapses, f"{name}.max_new_synapses", low=1)
        _whole(self.max_segments_per_cell, f"{name}.max_segments_per_cell", low=1)
        # high: a segment's counts are packed in 16 bits (snn.htm.tm_kernels.activate_dendrites)
        _whole(self.max_synapses_per_segment, f"{name}.max_synapses_per_segment", low=self.max_new_synapses,
               high=65535)  # fmt: skip
        _whole(self.seed, f"{name}.seed", low=0)
        for field in ("initial_permanence", "connected_permanence", "permanence_increment",
                      "permanence_decrement", "predicted_segment_decrement"):  # fmt: skip
            object.__setattr__(self, field, validate.probability(f"{name}.{field}", getattr(self, field)))
        if self.columns * self.cells_per_column >= 2**23:  # segments sort on (cell << 40) + creation order
            raise ValidationError(
                f"{name}.columns", "columns x cells_per_column must stay below 2**23 (8 388 608)"
            )

    @property
    def cells(self) -> int:
        """Total number of cells."""
        return self.columns * self.cells_per_column

    def kernel_params(self) -> tuple:
        """The scalars :func:`snn.htm.tm_kernels.compute` takes, in its order."""
        return (
            self.cells_per_column, self.activation_threshold, self.min_threshold,
            float(np.float32(self.initial_permanence)), self.connected_permanence,
            self.permanence_increment, self.permanence_decrement, self.predicted_segment_decrement,
            self.max_new_synapses, self.max_segments_per_cell, self.max_synapses_per_segment,
        )  # fmt: skip


class TemporalMemory:
    """A temporal memory over :class:`TemporalMemoryParameters` (see the module docstring).

    >>> tm = TemporalMemory(TemporalMemoryParameters(columns=256, cells_per_column=4))
    >>> sequence = [np.arange(20) + 20 * k for k in range(4)]  # 4 elements of 20 columns
    >>> for repetition in range(10):
    ...     tm.reset()  # each repetition starts without context
    ...     scores = [tm.compute(element) for element in sequence]
    >>> scores  # the first element cannot be predicted, the others are
    [1.0, 0.0, 0.0, 0.0]
    >>> np.array_equal(tm.predicted_columns(), sequence[0])  # nothing follows the last: no prediction
    False
    """

    def __init__(
        self, params: TemporalMemoryParameters | None = None, *, initial_segments: int = 1024
    ) -> None:
        self.params = params if params is not None else TemporalMemoryParameters()
        if not isinstance(self.params, TemporalMemoryParameters):
            raise ValidationError(
                "TemporalMemory.params", f"expected TemporalMemoryParameters, got {type(params).__name__}"
            )
        p = self.params
        self._arrays = kernels.allocate(
            p.columns, p.cells_per_column, max(initial_segments, 1), p.max_synapses_per_segment
        )
        self._arrays.rng[0] = np.uint64(splitmix64(p.seed))
        self._kernel_params = p.kernel_params()
        self.anomaly = 0.0

    # ---- stepping ----------------------------------------------------------------
    def _columns(
        self, active_columns: SDR | np.ndarray, field: str = "TemporalMemory.active_columns"
    ) -> np.ndarray:
        if isinstance(active_columns, SDR):
            if active_columns.size != self.params.columns:
                raise ValidationError(
                    field, f"SDR of {active_columns.size} bits, expected {self.params.columns} columns"
                )
            return active_columns.indices
        cols = np.asarray(active_columns)
        if cols.size == 0:
            return np.zeros(0, dtype=np.int64)
        if cols.ndim != 1 or not np.issubdtype(cols.dtype, np.integer):
            raise ValidationError(
                field, f"must be a 1-D array of column indices, got {cols.dtype} shape {cols.shape}"
            )
        cols = cols.astype(np.int64)
        if cols[0] < 0 or cols[-1] >= self.params.columns or np.any(np.diff(cols) <= 0):
            raise ValidationError(
                field, f"must be sorted, unique column indices in [0, {self.params.columns})"
            )
        return cols

    def _reserve(self, segments: int, chunks: int) -> None:
        """Make sure ``segments`` segments and ``chunks`` chunks of the presynaptic index are
        free (grows the arrays, doubling)."""
        counters = self._arrays.counters
        free = int(counters[kernels.N_FREE])
        if free < segments:
            size = self._arrays.seg_cell.size
            target = max(2 * size, size + segments - free)
            self._arrays = kernels.grown(self._arrays, target, self.params.max_synapses_per_segment)
        free = int(self._arrays.counters[kernels.N_FREE_CHUNKS])
        if free < chunks:
            size = self._arrays.chunk_next.size
            self._arrays = kernels.grown_chunks(self._arrays, max(2 * size, size + chunks - free))

    def _chunks_for(self, n_columns: int) -> int:
        return int(kernels.chunks_needed(self._arrays, n_columns, self.params.max_new_synapses))

    def compute(
        self, active_columns: SDR | np.ndarray, learn: bool = True, fired: np.ndarray | None = None
    ) -> float:
        """Advance one step on ``active_columns`` (an SDR of ``columns`` bits or sorted
        indices); return the raw anomaly score in [0, 1].

        ``fired``: None (the algorithm picks the active cells), or one bool per cell, the
        cells that fired in a spiking network (:mod:`snn.htm.spiking`), taken as the active
        cells (see :func:`snn.htm.tm_kernels.compute`)."""
        cols = self._columns(active_columns)
        if fired is None:
            fired = np.zeros(0, dtype=np.bool_)
        elif fired.shape != (self.params.cells,) or fired.dtype != np.bool_:
            raise ValidationError(
                "TemporalMemory.compute.fired", f"must be {self.params.cells} booleans, one per cell"
            )
        self._reserve(cols.size, self._chunks_for(cols.size))
        self.anomaly = float(kernels.compute(self._arrays, self._kernel_params, cols, bool(learn), fired))
        return self.anomaly

    def run(self, steps: list[np.ndarray] | list[SDR], learn: bool = True) -> np.ndarray:
        """:meth:`compute` on each step's columns in one kernel call per block; the raw
        anomaly scores (one per step)."""
        cols = [self._columns(s, f"TemporalMemory.run.steps[{k}]") for k, s in enumerate(steps)]
        ptr = np.zeros(len(cols) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([c.size for c in cols])
        index = np.concatenate([np.zeros(0, np.int64), *cols])
        anomalies = np.zeros(len(cols))
        most = max([c.size for c in cols], default=0) or 1  # the widest step bounds every step's needs
        done = 0
        while done < len(cols):
            self._reserve(most * 64, self._chunks_for(most) * 16)
            done += kernels.run_series(self._arrays, self._kernel_params, ptr[done:] - ptr[done],
                                       index[ptr[done]:], bool(learn), anomalies[done:])  # fmt: skip
        if len(cols):
            self.anomaly = float(anomalies[-1])
        return anomalies

    def reset(self) -> None:
        """Forget the current sequence context (the next step has no previous active cells),
        keeping everything learned."""
        c = self._arrays.counters
        self._arrays.cell_mark[self._arrays.prev_active[: c[kernels.N_PREV_ACTIVE]]] = False
        for k in (kernels.N_ACTIVE, kernels.N_WINNER, kernels.N_PREV_ACTIVE, kernels.N_PREV_WINNER,
                  kernels.N_PREDICTIVE, kernels.N_ACTIVE_SEGS, kernels.N_MATCHING_SEGS):  # fmt: skip
            c[k] = 0

    # ---- reading -----------------------------------------------------------------
    def _list(self, name: str, count: int) -> np.ndarray:
        return getattr(self._arrays, name)[: self._arrays.counters[count]].astype(np.int64)

    @property
    def active_cells(self) -> np.ndarray:
        """Cells active after the last step (sorted cell indices, cell = column x cells + k)."""
        return self._list("active_cells", kernels.N_ACTIVE)

    @property
    def winner_cells(self) -> np.ndarray:
        """Winner cells of the last step (sorted)."""
        return self._list("winner_cells", kernels.N_WINNER)

    @property
    def predictive_cells(self) -> np.ndarray:
        """Cells predicted for the next step (sorted)."""
        return self._list("predictive_cells", kernels.N_PREDICTIVE)

    def predicted_columns(self) -> np.ndarray:
        """Columns with a predictive cell (sorted)."""
        return np.unique(self.predictive_cells // self.params.cells_per_column)

    @property
    def n_segments(self) -> int:
        """Segments alive."""
        return int(self._arrays.counters[kernels.N_SEGMENTS])

    @property
    def n_synapses(self) -> int:
        """Synapses alive."""
        return int(self._arrays.counters[kernels.N_SYNAPSES])

    def segments(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Every segment as (cell, presynaptic cells, permanences), in (cell, creation) order."""
        a, P = self._arrays, self.params.max_synapses_per_segment
        alive = np.flatnonzero(a.seg_cell >= 0)
        alive = alive[np.lexsort((a.seg_ordinal[alive], a.seg_cell[alive]))]
        return [
            (int(a.seg_cell[g]), a.syn_presyn[g * P : g * P + a.seg_n_syn[g]].astype(np.int64),
             a.syn_perm[g * P : g * P + a.seg_n_syn[g]].copy())
            for g in alive
        ]  # fmt: skip

    # ---- persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the whole state (parameters, segments, synapses, cells, random stream) to
        ``path`` (.npz), through a temporary file renamed into place."""
        from snn.atomic import write_atomic

        path = Path(path)
        header = json.dumps({"format": STATE_FORMAT, "params": asdict(self.params), "anomaly": self.anomaly})

        def write(handle) -> None:
            np.savez(handle, header=np.array(header), **self._arrays._asdict())

        write_atomic(path, write)
        return path

    def copy(self) -> TemporalMemory:
        """An independent temporal memory in this one's state (continues as it would)."""
        return self._with_state(self.params, self._arrays._asdict(), self.anomaly)

    @classmethod
    def _with_state(cls, params: TemporalMemoryParameters, arrays, anomaly: float) -> TemporalMemory:
        tm = cls(params, initial_segments=1)
        tm._arrays = kernels.TMArrays(**{name: arrays[name].copy() for name in kernels.TMArrays._fields})
        tm.anomaly = float(anomaly)
        return tm

    @classmethod
    def load(cls, path: str | os.PathLike) -> TemporalMemory:
        """The temporal memory :meth:`save` wrote; continues bit for bit."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != STATE_FORMAT:
                raise ValidationError(
                    "TemporalMemory.load", f"{path} is not a temporal memory state ({header.get('format')!r})"
                )
            names = {f.name for f in fields(TemporalMemoryParameters)}
            params = TemporalMemoryParameters(**{k: v for k, v in header["params"].items() if k in names})
            return cls._with_state(params, data, header["anomaly"])
