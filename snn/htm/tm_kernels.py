"""Numba kernels of the temporal memory (see :mod:`snn.htm.temporal_memory` for the algorithm).

Everything lives in flat arrays (:class:`TMArrays`):

- segments (capacity ``S``): ``seg_cell`` (owning cell, -1 when free), ``seg_n_syn``,
  ``seg_last_used`` (iteration of its last activation, for the least-recently-used
  eviction), ``seg_ordinal`` (creation order: lists of segments are sorted by (cell,
  ordinal)), ``seg_next``/``seg_prev`` (the owning cell's doubly linked list of segments),
  ``seg_overlap`` (the last :func:`activate_dendrites`' counts, packed as stamp << 32 |
  potential << 16 | connected: one memory access per synapse visited) and
  ``seg_potential`` (its potential count, unpacked for the touched segments);
- synapses: segment ``g`` owns slots ``g * P .. g * P + seg_n_syn[g] - 1`` (``P`` = max
  synapses per segment) of ``syn_presyn`` and ``syn_perm`` (float32, as htm.core's
  permanences);
- the presynaptic index: each cell's outgoing synapses are listed in chunks of ``CHUNK``
  entries (``chunk_seg``, ``chunk_syn``, and a copy of the permanence in ``chunk_perm``),
  chained by ``chunk_next``/``chunk_prev`` from ``cell_head``/``cell_tail``, with
  ``cell_n_out`` entries; ``syn_pos`` is each synapse's entry. One step reads only the
  active cells' chunks, contiguously (a linked list per synapse cost ~5 cache misses per
  synapse visited and ran 3-4x slower on bursting steps);
- cells: ``cell_first_seg``, ``cell_n_seg``; the cell lists of the step (``active_cells``,
  ``winner_cells``, ``predictive_cells``) and of the step before (``prev_active``,
  ``prev_winner``), each sorted, with their lengths in ``counters``;
- ``free_segs``: a stack of free segment ids; ``rng``: the SplitMix64 stream.

The random choices (ties between least-used cells, which winner cells a segment grows
synapses to) draw from one SplitMix64 stream, so a run is a pure function of its seed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# counters[...]
N_ACTIVE, N_WINNER, N_PREV_ACTIVE, N_PREV_WINNER, N_PREDICTIVE = 0, 1, 2, 3, 4
N_ACTIVE_SEGS, N_MATCHING_SEGS, N_FREE, ITERATION, NEXT_ORDINAL = 5, 6, 7, 8, 9
N_SEGMENTS, N_SYNAPSES, STAMP, N_FREE_CHUNKS = 10, 11, 12, 13
N_COUNTERS = 14
CHUNK = 16  # entries per chunk of a cell's outgoing synapses

# a permanence this close to 0 removes its synapse; this close below ``connected`` still connects
# (htm.core's Epsilon, which absorbs float32 rounding of repeated +-0.1 steps)
EPSILON = 1e-6

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


class TMArrays(NamedTuple):
    """The temporal memory's state (see the module docstring); ``S`` segments of ``P`` slots."""

    seg_cell: np.ndarray  # int32 (S,)
    seg_n_syn: np.ndarray  # int32 (S,)
    seg_last_used: np.ndarray  # int64 (S,)
    seg_ordinal: np.ndarray  # int64 (S,)
    seg_next: np.ndarray  # int32 (S,)
    seg_prev: np.ndarray  # int32 (S,)
    seg_overlap: np.ndarray  # int64 (S,)
    seg_potential: np.ndarray  # int32 (S,)
    syn_presyn: np.ndarray  # int32 (S * P,)
    syn_perm: np.ndarray  # float32 (S * P,)
    syn_pos: np.ndarray  # int32 (S * P,)
    chunk_seg: np.ndarray  # int32 (chunks * CHUNK,)
    chunk_syn: np.ndarray  # int32 (chunks * CHUNK,)
    chunk_perm: np.ndarray  # float32 (chunks * CHUNK,)
    chunk_next: np.ndarray  # int32 (chunks,)
    chunk_prev: np.ndarray  # int32 (chunks,)
    free_chunks: np.ndarray  # int32 (chunks,)
    cell_first_seg: np.ndarray  # int32 (cells,)
    cell_n_seg: np.ndarray  # int32 (cells,)
    cell_head: np.ndarray  # int32 (cells,)
    cell_tail: np.ndarray  # int32 (cells,)
    cell_n_out: np.ndarray  # int32 (cells,)
    free_segs: np.ndarray  # int32 (S,)
    active_cells: np.ndarray  # int32 (cells,)
    winner_cells: np.ndarray  # int32 (cells,)
    prev_active: np.ndarray  # int32 (cells,)
    prev_winner: np.ndarray  # int32 (cells,)
    predictive_cells: np.ndarray  # int32 (cells,)
    active_segs: np.ndarray  # int32 (S,)
    matching_segs: np.ndarray  # int32 (S,)
    cell_mark: np.ndarray  # bool (cells,): the previous step's active cells
    scratch_mark: np.ndarray  # bool (cells,): candidates while growing
    scratch: np.ndarray  # int32 (cells,): candidate list while growing
    column_mark: np.ndarray  # bool (columns,)
    counters: np.ndarray  # int64 (N_COUNTERS,)
    rng: np.ndarray  # uint64 (1,)


def allocate(
    n_columns: int, cells_per_column: int, segments: int, synapses_per_segment: int, chunks: int = 4096
) -> TMArrays:
    """Empty state for ``n_columns x cells_per_column`` cells and room for ``segments``."""
    cells = n_columns * cells_per_column
    slots = segments * synapses_per_segment

    def full(n: int, value: int, dtype: type) -> np.ndarray:
        return np.full(n, value, dtype=dtype)

    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    counters[N_FREE] = segments
    counters[N_FREE_CHUNKS] = chunks
    entries = chunks * CHUNK
    return TMArrays(
        full(segments, -1, np.int32), full(segments, 0, np.int32), full(segments, 0, np.int64),
        full(segments, 0, np.int64), full(segments, -1, np.int32), full(segments, -1, np.int32),
        full(segments, -1, np.int64), full(segments, 0, np.int32),
        full(slots, -1, np.int32), full(slots, 0, np.float32), full(slots, -1, np.int32),
        full(entries, -1, np.int32), full(entries, -1, np.int32), full(entries, 0, np.float32),
        full(chunks, -1, np.int32), full(chunks, -1, np.int32), np.arange(chunks - 1, -1, -1, dtype=np.int32),
        full(cells, -1, np.int32), full(cells, 0, np.int32),
        full(cells, -1, np.int32), full(cells, -1, np.int32), full(cells, 0, np.int32),
        np.arange(segments - 1, -1, -1, dtype=np.int32),  # pops the lowest id first
        full(cells, 0, np.int32), full(cells, 0, np.int32),
        full(cells, 0, np.int32), full(cells, 0, np.int32),
        full(cells, 0, np.int32), full(segments, 0, np.int32), full(segments, 0, np.int32),
        np.zeros(cells, dtype=np.bool_), np.zeros(cells, dtype=np.bool_), full(cells, 0, np.int32),
        np.zeros(n_columns, dtype=np.bool_), counters, np.zeros(1, dtype=np.uint64),
    )  # fmt: skip


def _more(a: np.ndarray, n: int, value: int) -> np.ndarray:
    return np.concatenate([a, np.full(n, value, dtype=a.dtype)])


def _restacked(stack: np.ndarray, n_free: int, old: int, new: int) -> np.ndarray:
    """A free-id stack of ``n_free`` ids with ids ``old .. new - 1`` added under its top, so
    ids still pop lowest-first."""
    return np.concatenate(
        [np.arange(new - 1, old - 1, -1, dtype=np.int32), stack[:n_free], np.zeros(old - n_free, np.int32)]
    )


def grown(arrays: TMArrays, segments: int, synapses_per_segment: int) -> TMArrays:
    """``arrays`` with room for ``segments`` (more than now); every id stays valid."""
    old = arrays.seg_cell.size
    extra = segments - old
    slots = extra * synapses_per_segment
    counters = arrays.counters.copy()
    counters[N_FREE] += extra
    return arrays._replace(
        seg_cell=_more(arrays.seg_cell, extra, -1), seg_n_syn=_more(arrays.seg_n_syn, extra, 0),
        seg_last_used=_more(arrays.seg_last_used, extra, 0), seg_ordinal=_more(arrays.seg_ordinal, extra, 0),
        seg_next=_more(arrays.seg_next, extra, -1), seg_prev=_more(arrays.seg_prev, extra, -1),
        seg_overlap=_more(arrays.seg_overlap, extra, -1), seg_potential=_more(arrays.seg_potential, extra, 0),
        syn_presyn=_more(arrays.syn_presyn, slots, -1), syn_perm=_more(arrays.syn_perm, slots, 0),
        syn_pos=_more(arrays.syn_pos, slots, -1),
        free_segs=_restacked(arrays.free_segs, int(arrays.counters[N_FREE]), old, segments),
        active_segs=_more(arrays.active_segs, extra, 0),
        matching_segs=_more(arrays.matching_segs, extra, 0), counters=counters,
    )  # fmt: skip


def grown_chunks(arrays: TMArrays, chunks: int) -> TMArrays:
    """``arrays`` with room for ``chunks`` chunks of the presynaptic index (more than now)."""
    old = arrays.chunk_next.size
    extra = chunks - old
    counters = arrays.counters.copy()
    counters[N_FREE_CHUNKS] += extra
    return arrays._replace(
        chunk_seg=_more(arrays.chunk_seg, extra * CHUNK, -1),
        chunk_syn=_more(arrays.chunk_syn, extra * CHUNK, -1),
        chunk_perm=_more(arrays.chunk_perm, extra * CHUNK, 0),
        chunk_next=_more(arrays.chunk_next, extra, -1), chunk_prev=_more(arrays.chunk_prev, extra, -1),
        free_chunks=_restacked(arrays.free_chunks, int(arrays.counters[N_FREE_CHUNKS]), old, chunks),
        counters=counters,
    )  # fmt: skip


# ---- random stream ------------------------------------------------------------------
@njit(cache=True, inline="always")
def _next_random(rng):
    """The next 64-bit SplitMix64 output of the stream ``rng`` (1 uint64)."""
    x = rng[0] + _GOLDEN
    rng[0] = x
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


@njit(cache=True, inline="always")
def _random_below(rng, n):
    """A uniform integer in ``[0, n)`` from the stream (53 bits scaled, then floored)."""
    unit = np.float64(_next_random(rng) >> np.uint64(11)) * _TO_UNIT
    return min(np.int64(unit * n), n - 1)


# ---- synapses -----------------------------------------------------------------------
@njit(cache=True)
def _create_synapse(a, P, seg, presyn, permanence):
    slot = a.seg_n_syn[seg]
    syn = seg * P + slot
    a.syn_presyn[syn] = presyn
    a.syn_perm[syn] = permanence
    # list it at the end of the presynaptic cell's chunks (a new chunk when the last is full)
    count = a.cell_n_out[presyn]
    if count % CHUNK == 0:
        a.counters[N_FREE_CHUNKS] -= 1
        chunk = a.free_chunks[a.counters[N_FREE_CHUNKS]]
        tail = a.cell_tail[presyn]
        a.chunk_next[chunk] = -1
        a.chunk_prev[chunk] = tail
        if tail >= 0:
            a.chunk_next[tail] = chunk
        else:
            a.cell_head[presyn] = chunk
        a.cell_tail[presyn] = chunk
    pos = a.cell_tail[presyn] * CHUNK + count % CHUNK
    a.chunk_seg[pos] = seg
    a.chunk_syn[pos] = syn
    a.chunk_perm[pos] = permanence
    a.syn_pos[syn] = pos
    a.cell_n_out[presyn] = count + 1
    a.seg_n_syn[seg] = slot + 1
    a.counters[N_SYNAPSES] += 1


@njit(cache=True)
def _unlink_synapse(a, syn):
    """Remove ``syn`` from its presynaptic cell's chunks: the cell's last entry moves into its
    place, and an emptied last chunk is freed."""
    presyn = a.syn_presyn[syn]
    pos = a.syn_pos[syn]
    count = a.cell_n_out[presyn] - 1
    tail = a.cell_tail[presyn]
    last = tail * CHUNK + count % CHUNK
    if pos != last:
        moved = a.chunk_syn[last]
        a.chunk_seg[pos] = a.chunk_seg[last]
        a.chunk_syn[pos] = moved
        a.chunk_perm[pos] = a.chunk_perm[last]
        a.syn_pos[moved] = pos
    a.cell_n_out[presyn] = count
    if count % CHUNK == 0:
        before = a.chunk_prev[tail]
        a.free_chunks[a.counters[N_FREE_CHUNKS]] = tail
        a.counters[N_FREE_CHUNKS] += 1
        a.cell_tail[presyn] = before
        if before >= 0:
            a.chunk_next[before] = -1
        else:
            a.cell_head[presyn] = -1


@njit(cache=True)
def _destroy_synapse(a, P, seg, slot):
    """Remove synapse ``slot`` of ``seg``; the segment's last synapse moves into its slot."""
    syn = seg * P + slot
    _unlink_synapse(a, syn)
    last = seg * P + a.seg_n_syn[seg] - 1
    if syn != last:  # the moved synapse keeps its entry in the index, under its new id
        a.syn_presyn[syn] = a.syn_presyn[last]
        a.syn_perm[syn] = a.syn_perm[last]
        pos = a.syn_pos[last]
        a.syn_pos[syn] = pos
        a.chunk_syn[pos] = syn
    a.seg_n_syn[seg] -= 1
    a.counters[N_SYNAPSES] -= 1


# ---- segments -----------------------------------------------------------------------
@njit(cache=True)
def _destroy_segment(a, P, seg):
    for slot in range(a.seg_n_syn[seg]):
        _unlink_synapse(a, seg * P + slot)
    a.counters[N_SYNAPSES] -= a.seg_n_syn[seg]
    a.seg_n_syn[seg] = 0
    cell = a.seg_cell[seg]
    before, after = a.seg_prev[seg], a.seg_next[seg]
    if before >= 0:
        a.seg_next[before] = after
    else:
        a.cell_first_seg[cell] = after
    if after >= 0:
        a.seg_prev[after] = before
    a.cell_n_seg[cell] -= 1
    a.seg_cell[seg] = -1
    a.free_segs[a.counters[N_FREE]] = seg
    a.counters[N_FREE] += 1
    a.counters[N_SEGMENTS] -= 1


@njit(cache=True)
def _create_segment(a, P, cell, max_segments):
    """A new segment on ``cell``; a cell already at ``max_segments`` first loses its least
    recently used one (ties: the oldest)."""
    if a.cell_n_seg[cell] >= max_segments:
        victim, seg = -1, a.cell_first_seg[cell]
        while seg >= 0:
            if victim < 0 or a.seg_last_used[seg] < a.seg_last_used[victim]:
                victim = seg
            elif (
                a.seg_last_used[seg] == a.seg_last_used[victim] and a.seg_ordinal[seg] < a.seg_ordinal[victim]
            ):
                victim = seg
            seg = a.seg_next[seg]
        _destroy_segment(a, P, victim)
    a.counters[N_FREE] -= 1
    seg = a.free_segs[a.counters[N_FREE]]
    a.seg_cell[seg] = cell
    a.seg_n_syn[seg] = 0
    a.seg_last_used[seg] = a.counters[ITERATION]
    a.seg_ordinal[seg] = a.counters[NEXT_ORDINAL]
    a.counters[NEXT_ORDINAL] += 1
    head = a.cell_first_seg[cell]
    a.seg_prev[seg] = -1
    a.seg_next[seg] = head
    if head >= 0:
        a.seg_prev[head] = seg
    a.cell_first_seg[cell] = seg
    a.cell_n_seg[cell] += 1
    a.counters[N_SEGMENTS] += 1
    return seg


@njit(cache=True)
def _adapt_segment(a, P, seg, increment, decrement):
    """Hebbian update of ``seg``: synapses from the previous step's active cells gain
    ``increment``, the others lose ``decrement``; permanences stay in [0, 1], a synapse
    that reaches 0 is removed, and so is a segment left with none."""
    for slot in range(a.seg_n_syn[seg] - 1, -1, -1):  # backwards: a removal moves an already-visited synapse
        syn = seg * P + slot
        permanence = np.float64(a.syn_perm[syn])
        permanence = permanence + increment if a.cell_mark[a.syn_presyn[syn]] else permanence - decrement
        permanence = min(max(permanence, 0.0), 1.0)
        if permanence < EPSILON:
            _destroy_synapse(a, P, seg, slot)
        else:
            a.syn_perm[syn] = permanence
            a.chunk_perm[a.syn_pos[syn]] = a.syn_perm[syn]
    if a.seg_n_syn[seg] == 0:
        _destroy_segment(a, P, seg)


@njit(cache=True)
def _grow_synapses(a, P, seg, wanted, initial_permanence, max_synapses):
    """Add up to ``wanted`` synapses from the previous step's winner cells that ``seg`` does
    not yet sample, chosen at random; a full segment first drops its weakest synapses onto
    cells other than the previous winners (fewer are added if those run out)."""
    n_syn = a.seg_n_syn[seg]
    for slot in range(n_syn):
        a.scratch_mark[a.syn_presyn[seg * P + slot]] = True
    n_cand = 0
    for k in range(a.counters[N_PREV_WINNER]):
        cell = a.prev_winner[k]
        if not a.scratch_mark[cell]:
            a.scratch[n_cand] = cell
            n_cand += 1
    for slot in range(n_syn):
        a.scratch_mark[a.syn_presyn[seg * P + slot]] = False
    n_new = min(wanted, n_cand)
    overrun = n_syn + n_new - max_synapses
    if overrun > 0:  # keep the synapses onto the previous winners (htm.core's exclusion)
        for k in range(a.counters[N_PREV_WINNER]):
            a.scratch_mark[a.prev_winner[k]] = True
        for _ in range(overrun):
            weakest, lowest = -1, 2.0
            for slot in range(a.seg_n_syn[seg]):
                syn = seg * P + slot
                if not a.scratch_mark[a.syn_presyn[syn]] and a.syn_perm[syn] < lowest:
                    weakest, lowest = slot, a.syn_perm[syn]
            if weakest < 0:
                break
            _destroy_synapse(a, P, seg, weakest)
        for k in range(a.counters[N_PREV_WINNER]):
            a.scratch_mark[a.prev_winner[k]] = False
        n_new = min(n_new, max_synapses - a.seg_n_syn[seg])
    for _ in range(n_new):
        pick = _random_below(a.rng, n_cand)
        _create_synapse(a, P, seg, a.scratch[pick], initial_permanence)
        n_cand -= 1
        a.scratch[pick] = a.scratch[n_cand]


@njit(cache=True)
def _least_used_cell(a, column, cells_per_column, fired, spiking):
    """The cell of ``column`` with the fewest segments (ties: one at random); when
    ``spiking``, among the cells that ``fired`` only."""
    first = column * cells_per_column
    fewest, ties = np.int32(2**31 - 1), 0
    for cell in range(first, first + cells_per_column):
        if spiking and not fired[cell]:
            continue
        if a.cell_n_seg[cell] < fewest:
            fewest, ties = a.cell_n_seg[cell], 1
        elif a.cell_n_seg[cell] == fewest:
            ties += 1
    pick = _random_below(a.rng, ties)
    for cell in range(first, first + cells_per_column):
        if spiking and not fired[cell]:
            continue
        if a.cell_n_seg[cell] == fewest:
            if pick == 0:
                return cell
            pick -= 1
    return first


@njit(cache=True)
def chunks_needed(a, n_columns, max_new):
    """Free chunks one step may take at most: every learning segment (the active ones, one per
    bursting column) grows up to ``max_new`` synapses, each of which may open a chunk."""
    return max_new * (a.counters[N_ACTIVE_SEGS] + n_columns)


# ---- one step -----------------------------------------------------------------------
@njit(cache=True)
def compute(a, params, active_columns, learn, fired):
    """One time step on the sorted ``active_columns``; returns the raw anomaly score
    (fraction of active columns that no cell predicted; 0 when none is active).

    ``fired`` (bool per cell, or empty): empty, the temporal memory decides which cells
    fire (the algorithm of :mod:`snn.htm.temporal_memory`); given, the cells that fired in a
    spiking network (:mod:`snn.htm.spiking`) are the active cells: a column is predicted when
    one of its cells with an active segment fired (those cells win and learn), else it is
    taken as bursting (its best matching segment or least used cell among the cells that
    fired wins). When the spikes are those the algorithm would choose, both give the same
    result, bit for bit. The anomaly score comes from the predictive cells either way (a
    predicted column whose predicted cells failed to fire still scores as predicted).

    ``params`` = (cells_per_column, activation_threshold, min_threshold,
    initial_permanence, connected_permanence, permanence_increment,
    permanence_decrement, predicted_segment_decrement, max_new_synapses,
    max_segments_per_cell, max_synapses_per_segment). The caller makes sure that at
    least ``active_columns.size`` segments are free.
    """
    (K, activation_threshold, min_threshold, initial_permanence, connected_permanence, increment, decrement,
     predicted_decrement, max_new, max_segments, P) = params  # fmt: skip
    c = a.counters
    spiking = fired.size > 0

    # the anomaly: active columns without a predictive cell (both lists are sorted)
    unpredicted, k = 0, 0
    for col in active_columns:
        while k < c[N_PREDICTIVE] and a.predictive_cells[k] // K < col:
            k += 1
        if not (k < c[N_PREDICTIVE] and a.predictive_cells[k] // K == col):
            unpredicted += 1
    anomaly = unpredicted / active_columns.size if active_columns.size > 0 else 0.0

    # this step's cells become the previous step's
    for k in range(c[N_PREV_ACTIVE]):
        a.cell_mark[a.prev_active[k]] = False
    for k in range(c[N_ACTIVE]):
        a.prev_active[k] = a.active_cells[k]
        a.cell_mark[a.active_cells[k]] = True
    for k in range(c[N_WINNER]):
        a.prev_winner[k] = a.winner_cells[k]
    c[N_PREV_ACTIVE], c[N_PREV_WINNER] = c[N_ACTIVE], c[N_WINNER]
    c[N_ACTIVE], c[N_WINNER] = 0, 0

    # activate cells, column by column; the segment lists are sorted by cell, hence by column
    ia, im = 0, 0
    n_active_segs, n_matching_segs = c[N_ACTIVE_SEGS], c[N_MATCHING_SEGS]
    for col in active_columns:
        a.column_mark[col] = True
        while ia < n_active_segs and a.seg_cell[a.active_segs[ia]] // K < col:
            ia += 1
        first_active = ia
        while ia < n_active_segs and a.seg_cell[a.active_segs[ia]] // K == col:
            ia += 1
        while im < n_matching_segs and a.seg_cell[a.matching_segs[im]] // K < col:
            im += 1
        first_matching = im
        while im < n_matching_segs and a.seg_cell[a.matching_segs[im]] // K == col:
            im += 1
        predicted = ia > first_active
        if spiking and predicted:  # predicted only if a cell with an active segment fired
            predicted = False
            for k in range(first_active, ia):
                predicted = predicted or fired[a.seg_cell[a.active_segs[k]]]
        if predicted:  # predicted: the predicted cells fire and win
            if spiking:  # every cell that fired is active (exactly the predicted ones, normally)
                for cell in range(col * K, col * K + K):
                    if fired[cell]:
                        a.active_cells[c[N_ACTIVE]] = cell
                        c[N_ACTIVE] += 1
            last_cell = -1
            for k in range(first_active, ia):
                seg = a.active_segs[k]
                cell = a.seg_cell[seg]
                if spiking and not fired[cell]:
                    continue
                if cell != last_cell:
                    if not spiking:
                        a.active_cells[c[N_ACTIVE]] = cell
                        c[N_ACTIVE] += 1
                    a.winner_cells[c[N_WINNER]] = cell
                    c[N_WINNER] += 1
                    last_cell = cell
                if learn:
                    wanted = max_new - a.seg_potential[seg]
                    _adapt_segment(a, P, seg, increment, decrement)
                    if wanted > 0 and a.seg_cell[seg] >= 0:
                        _grow_synapses(a, P, seg, wanted, initial_permanence, P)
            continue
        # unpredicted: the column bursts
        for cell in range(col * K, col * K + K):
            if not spiking or fired[cell]:
                a.active_cells[c[N_ACTIVE]] = cell
                c[N_ACTIVE] += 1
        best = -1  # the best matching segment (first of the most potential synapses), on a cell that fired
        for k in range(first_matching, im):
            seg = a.matching_segs[k]
            if spiking and not fired[a.seg_cell[seg]]:
                continue
            if best < 0 or a.seg_potential[seg] > a.seg_potential[best]:
                best = seg
        if best >= 0:  # it learns
            winner = a.seg_cell[best]
            if learn:
                wanted = max_new - a.seg_potential[best]
                _adapt_segment(a, P, best, increment, decrement)
                if wanted > 0 and a.seg_cell[best] >= 0:
                    _grow_synapses(a, P, best, wanted, initial_permanence, P)
        else:  # a new segment on the least used cell (of those that fired)
            winner = _least_used_cell(a, col, K, fired, spiking)
            if learn and c[N_PREV_WINNER] > 0:
                seg = _create_segment(a, P, winner, max_segments)
                _grow_synapses(a, P, seg, min(max_new, c[N_PREV_WINNER]), initial_permanence, P)
        a.winner_cells[c[N_WINNER]] = winner
        c[N_WINNER] += 1

    # punish the segments that matched in columns that did not become active
    if learn and predicted_decrement > 0.0:
        for k in range(n_matching_segs):
            seg = a.matching_segs[k]
            if a.seg_cell[seg] >= 0 and not a.column_mark[a.seg_cell[seg] // K]:
                _adapt_segment(a, P, seg, -predicted_decrement, 0.0)
    for col in active_columns:
        a.column_mark[col] = False

    activate_dendrites(a, K, activation_threshold, min_threshold, connected_permanence, P, learn)
    return anomaly


@njit(cache=True)
def _sort_by_cell(a, segs):
    """Sort ``segs`` in place by (cell, ordinal)."""
    if segs.size < 2:
        return
    keys = np.empty(segs.size, dtype=np.int64)
    for k in range(segs.size):
        keys[k] = (np.int64(a.seg_cell[segs[k]]) << 40) + a.seg_ordinal[segs[k]]
    segs[:] = segs[np.argsort(keys)]


@njit(cache=True)
def activate_dendrites(a, K, activation_threshold, min_threshold, connected_permanence, P, learn):
    """Count each segment's synapses from the active cells (potential: all of them;
    connected: those at or above ``connected_permanence``; packed in ``seg_overlap``), list
    the active and matching segments sorted by (cell, ordinal), and the predictive cells."""
    c = a.counters
    c[STAMP] += 1
    stamp = c[STAMP] << 32
    touched = 0
    for k in range(c[N_ACTIVE]):
        cell = a.active_cells[k]
        chunk, left = a.cell_head[cell], a.cell_n_out[cell]
        while left > 0:
            pos = chunk * CHUNK
            for j in range(pos, pos + min(left, CHUNK)):
                seg = a.chunk_seg[j]
                count = a.seg_overlap[seg]
                if count & -4294967296 != stamp:  # first synapse of this segment in this step
                    count = stamp
                    a.matching_segs[touched] = seg  # the touched list, filtered below
                    touched += 1
                count += 65536  # potential
                if a.chunk_perm[j] >= connected_permanence - EPSILON:
                    count += 1  # connected
                a.seg_overlap[seg] = count
            left -= CHUNK
            chunk = a.chunk_next[chunk]
    n_active, n_matching = 0, 0
    for k in range(touched):  # filter first: only the active and matching ones get sorted
        seg = a.matching_segs[k]
        count = a.seg_overlap[seg]
        potential = (count >> 16) & 65535
        a.seg_potential[seg] = potential
        if count & 65535 >= activation_threshold:
            a.active_segs[n_active] = seg
            n_active += 1
        if potential >= min_threshold:
            a.matching_segs[n_matching] = seg
            n_matching += 1
    _sort_by_cell(a, a.active_segs[:n_active])
    _sort_by_cell(a, a.matching_segs[:n_matching])
    c[N_ACTIVE_SEGS], c[N_MATCHING_SEGS] = n_active, n_matching
    n_predictive = 0
    for k in range(n_active):
        cell = a.seg_cell[a.active_segs[k]]
        if n_predictive == 0 or a.predictive_cells[n_predictive - 1] != cell:
            a.predictive_cells[n_predictive] = cell
            n_predictive += 1
        if learn:
            a.seg_last_used[a.active_segs[k]] = c[ITERATION]
    c[N_PREDICTIVE] = n_predictive
    if learn:
        c[ITERATION] += 1


@njit(cache=True)
def run_series(a, params, column_ptr, column_index, learn, anomalies):
    """:func:`compute` on each step's columns ``column_index[column_ptr[t]:column_ptr[t + 1]]``
    (CSR by step), raw anomaly scores into ``anomalies``; stops early, returning the number
    of steps done, when fewer segments are free than the next step may create."""
    no_spikes = np.zeros(0, dtype=np.bool_)
    for t in range(column_ptr.size - 1):
        columns = column_index[column_ptr[t] : column_ptr[t + 1]]
        if a.counters[N_FREE] < columns.size or a.counters[N_FREE_CHUNKS] < chunks_needed(
            a, columns.size, params[8]
        ):
            return t
        anomalies[t] = compute(a, params, columns, learn, no_spikes)
    return column_ptr.size - 1
