"""Numba kernels that generate and rearrange connectivity in CSR form (rows = pre)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _grow(array, needed):
    if needed <= array.size:
        return array
    bigger = np.empty(max(needed, int(array.size * 1.5) + 16), dtype=array.dtype)
    bigger[: array.size] = array
    return bigger


@njit(cache=True)
def fixed_probability(rng, n_pre, n_post, p, skip_diagonal):
    """Bernoulli(p) connectivity by geometric skipping: O(synapses), not O(n_pre * n_post).

    Returns ``indptr`` (int64, n_pre + 1) and sorted ``indices`` (int32). With
    ``skip_diagonal`` the pair (i, i) is never drawn.
    """
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    expected = n_pre * n_post * p
    indices = np.empty(int(expected + 6.0 * np.sqrt(expected + 1.0)) + 16, dtype=np.int32)
    count = 0
    if p > 0.0:
        log_q = np.log1p(-p) if p < 1.0 else -np.inf
        for i in range(n_pre):
            j = -1
            while True:
                if p < 1.0:
                    # the gap to the next success of a Bernoulli(p) sequence is geometric;
                    # compared as a float first, since for tiny p it can exceed any integer
                    gap = np.floor(np.log1p(-rng.random()) / log_q)
                    if gap >= n_post - j - 1:
                        break
                    j += 1 + int(gap)
                else:
                    j += 1
                if j >= n_post:
                    break
                if skip_diagonal and j == i:
                    continue
                if count >= indices.size:
                    indices = _grow(indices, count + 1)
                indices[count] = j
                count += 1
            indptr[i + 1] = count
    return indptr, indices[:count].copy()


@njit(cache=True)
def fixed_in_degree(rng, n_pre, n_post, in_degree, skip_diagonal):
    """Each post neuron draws ``in_degree`` distinct pre neurons (Floyd's algorithm).

    Returns CSR by pre: ``indptr`` (int64) and ``indices`` (int32, post ids, sorted).
    """
    pre_of = np.empty(n_post * in_degree, dtype=np.int32)
    taken = np.zeros(n_pre, dtype=np.bool_)
    pool = n_pre - 1 if skip_diagonal else n_pre
    for post in range(n_post):
        base = post * in_degree
        # Floyd: for r in [pool - k, pool), draw t in [0, r]; take t, or r if t is taken
        for slot in range(in_degree):
            top = pool - in_degree + slot
            candidate = int(rng.integers(0, top + 1))
            if taken[candidate]:
                candidate = top
            taken[candidate] = True
            pre_of[base + slot] = candidate
        for slot in range(in_degree):
            candidate = pre_of[base + slot]
            taken[candidate] = False
            if skip_diagonal and candidate >= post:
                pre_of[base + slot] = candidate + 1  # map [0, pool) onto all pre ids except post
    # transpose to rows by pre with a counting sort; posts come out in increasing order
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    for k in range(pre_of.size):
        indptr[pre_of[k] + 1] += 1
    for i in range(n_pre):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    indices = np.empty(pre_of.size, dtype=np.int32)
    for post in range(n_post):
        for slot in range(in_degree):
            pre = pre_of[post * in_degree + slot]
            indices[fill[pre]] = post
            fill[pre] += 1
    return indptr, indices


@njit(cache=True)
def coo_to_csr(n_rows, rows, cols, order):
    """CSR ``indptr`` and the permutation that sorts (rows, cols) given ``order`` = lexsort."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for k in range(rows.size):
        indptr[rows[k] + 1] += 1
    for i in range(n_rows):
        indptr[i + 1] += indptr[i]
    indices = np.empty(rows.size, dtype=np.int32)
    for k in range(order.size):
        indices[k] = cols[order[k]]
    return indptr, indices


@njit(cache=True)
def merge_rows(n_rows, row_offsets, indptrs, indptr_starts, sources, source_starts, out):
    """Concatenate, row by row, several CSR blocks into one CSR over ``n_rows`` rows.

    Block ``b`` covers global rows ``row_offsets[b]`` .. with its own indptr stored in
    ``indptrs[indptr_starts[b]:indptr_starts[b+1]]`` and its per-synapse values in
    ``sources[source_starts[b]:source_starts[b+1]]``. Writes values to ``out`` and
    returns the merged indptr. Called once per per-synapse field.
    """
    n_blocks = row_offsets.size
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for b in range(n_blocks):
        block = indptrs[indptr_starts[b] : indptr_starts[b + 1]]
        for r in range(block.size - 1):
            indptr[row_offsets[b] + r + 1] += block[r + 1] - block[r]
    for i in range(n_rows):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    for b in range(n_blocks):
        block = indptrs[indptr_starts[b] : indptr_starts[b + 1]]
        base = source_starts[b]
        for r in range(block.size - 1):
            row = row_offsets[b] + r
            length = block[r + 1] - block[r]
            out[fill[row] : fill[row] + length] = sources[base + block[r] : base + block[r + 1]]
            fill[row] += length
    return indptr


@njit(cache=True, parallel=True)
def partition_rows(indptr, targets, weights, delays, target_owner, parts):
    """Reorder each row's synapses, stably and in place, into groups by the part (0 <= part <
    ``parts``) that ``target_owner`` assigns their target; returns ``row_split``
    (n_rows, parts + 1): row ``i``'s synapses into part ``w`` are
    ``row_split[i, w]:row_split[i, w + 1]``. Stable, so synapses onto the same target keep
    their order (and a sum over them its rounding). ``delays`` may be empty (no delays)."""
    n_rows = indptr.size - 1
    row_split = np.empty((n_rows, parts + 1), dtype=np.int64)
    has_delays = delays.size > 0
    for row in prange(n_rows):
        begin, end = indptr[row], indptr[row + 1]
        row_split[row, 0] = begin
        if parts == 1:
            row_split[row, 1] = end
            continue
        counts = np.zeros(parts, dtype=np.int64)
        for k in range(begin, end):
            counts[target_owner[targets[k]]] += 1
        for part in range(parts):
            row_split[row, part + 1] = row_split[row, part] + counts[part]
        fill = row_split[row, :parts].copy()
        old_targets = targets[begin:end].copy()
        old_weights = weights[begin:end].copy()
        old_delays = delays[begin:end].copy() if has_delays else delays[:0]
        for k in range(end - begin):
            part = target_owner[old_targets[k]]
            slot = fill[part]
            fill[part] += 1
            targets[slot] = old_targets[k]
            weights[slot] = old_weights[k]
            if has_delays:
                delays[slot] = old_delays[k]
    return row_split
