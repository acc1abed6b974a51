"""Numba kernels of the temporal memory (see :mod:`snn.htm.temporal_memory` for the algorithm).

Everything lives in flat arrays (:class:`TMArrays`):

- segments (capacity ``S``): ``seg_cell`` (owning cell, -1 when free), ``seg_n_syn``,
  ``seg_last_used`` (iteration of its last activation, for the least-recently-used
  eviction), ``seg_ordinal`` (creation order: lists of segments are sorted by (cell,
  ordinal)), ``seg_next``/``seg_prev`` (the owning cell's doubly linked list of segments),
  ``seg_stamp``/``seg_potential``/``seg_connected`` (the overlap counts of the last
  :func:`activate_dendrites`, valid where ``seg_stamp`` equals the current stamp);
- synapses: segment ``g`` owns slots ``g * P .. g * P + seg_n_syn[g] - 1`` (``P`` = max
  synapses per segment) of ``syn_presyn`` and ``syn_perm`` (float32, as htm.core's
  permanences), and each synapse is linked into its presynaptic cell's list through
  ``syn_next``/``syn_prev`` (heads in ``cell_first_syn``), so one step visits only the
  synapses of the cells that are active;
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
N_SEGMENTS, N_SYNAPSES, STAMP = 10, 11, 12
N_COUNTERS = 13

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
    seg_stamp: np.ndarray  # int64 (S,)
    seg_potential: np.ndarray  # int32 (S,)
    seg_connected: np.ndarray  # int32 (S,)
    syn_presyn: np.ndarray  # int32 (S * P,)
    syn_perm: np.ndarray  # float32 (S * P,)
    syn_next: np.ndarray  # int32 (S * P,)
    syn_prev: np.ndarray  # int32 (S * P,)
    cell_first_seg: np.ndarray  # int32 (cells,)
    cell_n_seg: np.ndarray  # int32 (cells,)
    cell_first_syn: np.ndarray  # int32 (cells,)
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


def allocate(n_columns: int, cells_per_column: int, segments: int, synapses_per_segment: int) -> TMArrays:
    """Empty state for ``n_columns x cells_per_column`` cells and room for ``segments``."""
    cells = n_columns * cells_per_column
    slots = segments * synapses_per_segment

    def full(n: int, value: int, dtype: type) -> np.ndarray:
        return np.full(n, value, dtype=dtype)

    counters = np.zeros(N_COUNTERS, dtype=np.int64)
    counters[N_FREE] = segments
    return TMArrays(
        full(segments, -1, np.int32), full(segments, 0, np.int32), full(segments, 0, np.int64),
        full(segments, 0, np.int64), full(segments, -1, np.int32), full(segments, -1, np.int32),
        full(segments, -1, np.int64), full(segments, 0, np.int32), full(segments, 0, np.int32),
        full(slots, -1, np.int32), full(slots, 0, np.float32),
        full(slots, -1, np.int32), full(slots, -1, np.int32),
        full(cells, -1, np.int32), full(cells, 0, np.int32), full(cells, -1, np.int32),
        np.arange(segments - 1, -1, -1, dtype=np.int32),  # pops the lowest id first
        full(cells, 0, np.int32), full(cells, 0, np.int32),
        full(cells, 0, np.int32), full(cells, 0, np.int32),
        full(cells, 0, np.int32), full(segments, 0, np.int32), full(segments, 0, np.int32),
        np.zeros(cells, dtype=np.bool_), np.zeros(cells, dtype=np.bool_), full(cells, 0, np.int32),
        np.zeros(n_columns, dtype=np.bool_), counters, np.zeros(1, dtype=np.uint64),
    )  # fmt: skip


def grown(arrays: TMArrays, segments: int, synapses_per_segment: int) -> TMArrays:
    """``arrays`` with room for ``segments`` (more than now); every id stays valid."""
    old = arrays.seg_cell.size
    extra = segments - old
    slots = extra * synapses_per_segment

    def more(a: np.ndarray, n: int, value: int) -> np.ndarray:
        return np.concatenate([a, np.full(n, value, dtype=a.dtype)])

    n_free = int(arrays.counters[N_FREE])
    # the new ids go under the free stack's top, so ids still pop lowest-first
    free = np.concatenate(
        [
            np.arange(segments - 1, old - 1, -1, dtype=np.int32),
            arrays.free_segs[:n_free],
            np.zeros(old - n_free, np.int32),
        ]
    )
    counters = arrays.counters.copy()
    counters[N_FREE] = n_free + extra
    return arrays._replace(
        seg_cell=more(arrays.seg_cell, extra, -1), seg_n_syn=more(arrays.seg_n_syn, extra, 0),
        seg_last_used=more(arrays.seg_last_used, extra, 0), seg_ordinal=more(arrays.seg_ordinal, extra, 0),
        seg_next=more(arrays.seg_next, extra, -1), seg_prev=more(arrays.seg_prev, extra, -1),
        seg_stamp=more(arrays.seg_stamp, extra, -1), seg_potential=more(arrays.seg_potential, extra, 0),
        seg_connected=more(arrays.seg_connected, extra, 0),
        syn_presyn=more(arrays.syn_presyn, slots, -1), syn_perm=more(arrays.syn_perm, slots, 0),
        syn_next=more(arrays.syn_next, slots, -1), syn_prev=more(arrays.syn_prev, slots, -1),
        free_segs=free, active_segs=more(arrays.active_segs, extra, 0),
        matching_segs=more(arrays.matching_segs, extra, 0), counters=counters,
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
    head = a.cell_first_syn[presyn]
    a.syn_prev[syn] = -1
    a.syn_next[syn] = head
    if head >= 0:
        a.syn_prev[head] = syn
    a.cell_first_syn[presyn] = syn
    a.seg_n_syn[seg] = slot + 1
    a.counters[N_SYNAPSES] += 1


@njit(cache=True)
def _unlink_synapse(a, syn):
    before, after = a.syn_prev[syn], a.syn_next[syn]
    if before >= 0:
        a.syn_next[before] = after
    else:
        a.cell_first_syn[a.syn_presyn[syn]] = after
    if after >= 0:
        a.syn_prev[after] = before


@njit(cache=True)
def _destroy_synapse(a, P, seg, slot):
    """Remove synapse ``slot`` of ``seg``; the segment's last synapse moves into its slot."""
    syn = seg * P + slot
    _unlink_synapse(a, syn)
    last = seg * P + a.seg_n_syn[seg] - 1
    if syn != last:
        a.syn_presyn[syn] = a.syn_presyn[last]
        a.syn_perm[syn] = a.syn_perm[last]
        before, after = a.syn_prev[last], a.syn_next[last]
        a.syn_prev[syn], a.syn_next[syn] = before, after
        if before >= 0:
            a.syn_next[before] = syn
        else:
            a.cell_first_syn[a.syn_presyn[syn]] = syn
        if after >= 0:
            a.syn_prev[after] = syn
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
    if a.seg_n_syn[seg] == 0:
        _destroy_segment(a, P, seg)


@njit(cache=True)
def _grow_synapses(a, P, seg, wanted, initial_permanence, max_synapses):
    """Add up to ``wanted`` synapses from the previous step's winner cells that ``seg`` does
    not yet sample, chosen at random; a full segment first drops its weakest synapses (not
    those to the chosen candidates)."""
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
    if overrun > 0:
        for k in range(n_cand):
            a.scratch_mark[a.scratch[k]] = True
        for _ in range(overrun):
            weakest, lowest = -1, 2.0
            for slot in range(a.seg_n_syn[seg]):
                syn = seg * P + slot
                if not a.scratch_mark[a.syn_presyn[syn]] and a.syn_perm[syn] < lowest:
                    weakest, lowest = slot, a.syn_perm[syn]
            if weakest < 0:
                break
            _destroy_synapse(a, P, seg, weakest)
        for k in range(n_cand):
            a.scratch_mark[a.scratch[k]] = False
        n_new = min(n_new, max_synapses - a.seg_n_syn[seg])
    for _ in range(n_new):
        pick = _random_below(a.rng, n_cand)
        _create_synapse(a, P, seg, a.scratch[pick], initial_permanence)
        n_cand -= 1
        a.scratch[pick] = a.scratch[n_cand]


@njit(cache=True)
def _least_used_cell(a, column, cells_per_column):
    """The cell of ``column`` with the fewest segments (ties: one at random)."""
    first = column * cells_per_column
    fewest, ties = np.int32(2**31 - 1), 0
    for cell in range(first, first + cells_per_column):
        if a.cell_n_seg[cell] < fewest:
            fewest, ties = a.cell_n_seg[cell], 1
        elif a.cell_n_seg[cell] == fewest:
            ties += 1
    pick = _random_below(a.rng, ties)
    for cell in range(first, first + cells_per_column):
        if a.cell_n_seg[cell] == fewest:
            if pick == 0:
                return cell
            pick -= 1
    return first


# ---- one step -----------------------------------------------------------------------
@njit(cache=True)
def compute(a, params, active_columns, learn):
    """One time step on the sorted ``active_columns``; returns the raw anomaly score
    (fraction of active columns that no cell predicted; 0 when none is active).

    ``params`` = (cells_per_column, activation_threshold, min_threshold,
    initial_permanence, connected_permanence, permanence_increment,
    permanence_decrement, predicted_segment_decrement, max_new_synapses,
    max_segments_per_cell, max_synapses_per_segment). The caller makes sure that at
    least ``active_columns.size`` segments are free.
    """
    (K, activation_threshold, min_threshold, initial_permanence, connected_permanence, increment, decrement,
     predicted_decrement, max_new, max_segments, P) = params  # fmt: skip
    c = a.counters

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
        if ia > first_active:  # predicted: the predicted cells fire and win
            last_cell = -1
            for k in range(first_active, ia):
                seg = a.active_segs[k]
                cell = a.seg_cell[seg]
                if cell != last_cell:
                    a.active_cells[c[N_ACTIVE]] = cell
                    a.winner_cells[c[N_WINNER]] = cell
                    c[N_ACTIVE] += 1
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
            a.active_cells[c[N_ACTIVE]] = cell
            c[N_ACTIVE] += 1
        if im > first_matching:  # the best matching segment learns
            best = a.matching_segs[first_matching]
            for k in range(first_matching + 1, im):
                if a.seg_potential[a.matching_segs[k]] > a.seg_potential[best]:
                    best = a.matching_segs[k]
            winner = a.seg_cell[best]
            if learn:
                wanted = max_new - a.seg_potential[best]
                _adapt_segment(a, P, best, increment, decrement)
                if wanted > 0 and a.seg_cell[best] >= 0:
                    _grow_synapses(a, P, best, wanted, initial_permanence, P)
        else:  # a new segment on the least used cell
            winner = _least_used_cell(a, col, K)
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
def activate_dendrites(a, K, activation_threshold, min_threshold, connected_permanence, P, learn):
    """Count each segment's synapses from the active cells (``seg_potential``: all of them,
    ``seg_connected``: those at or above ``connected_permanence``), list the active and
    matching segments sorted by (cell, ordinal), and the predictive cells."""
    c = a.counters
    c[STAMP] += 1
    stamp = c[STAMP]
    touched = 0
    for k in range(c[N_ACTIVE]):
        syn = a.cell_first_syn[a.active_cells[k]]
        while syn >= 0:
            seg = syn // P
            if a.seg_stamp[seg] != stamp:
                a.seg_stamp[seg] = stamp
                a.seg_potential[seg] = 0
                a.seg_connected[seg] = 0
                a.matching_segs[touched] = seg  # the touched list, filtered below
                touched += 1
            a.seg_potential[seg] += 1
            if a.syn_perm[syn] >= connected_permanence - EPSILON:
                a.seg_connected[seg] += 1
            syn = a.syn_next[syn]
    keys = np.empty(touched, dtype=np.int64)
    for k in range(touched):
        seg = a.matching_segs[k]
        keys[k] = (np.int64(a.seg_cell[seg]) << 40) + a.seg_ordinal[seg]
    order = np.argsort(keys)
    segs = a.matching_segs[:touched].copy()
    n_active, n_matching = 0, 0
    for k in order:
        seg = segs[k]
        if a.seg_connected[seg] >= activation_threshold:
            a.active_segs[n_active] = seg
            n_active += 1
        if a.seg_potential[seg] >= min_threshold:
            a.matching_segs[n_matching] = seg
            n_matching += 1
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
    for t in range(column_ptr.size - 1):
        columns = column_index[column_ptr[t] : column_ptr[t + 1]]
        if a.counters[N_FREE] < columns.size:
            return t
        anomalies[t] = compute(a, params, columns, learn)
    return column_ptr.size - 1
