"""A plain-Python temporal memory written from :mod:`snn.htm.temporal_memory`'s docstring, for
the agreement test: dicts and lists instead of flat arrays and linked lists, one function per
rule, no Numba. Its random choices draw from the same SplitMix64 stream in the same order, so
the two must agree cell for cell and synapse for synapse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snn.htm.encoders import splitmix64

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
EPSILON = 1e-6


class Stream:
    """SplitMix64 stream: state += golden ratio; output = mix(state)."""

    def __init__(self, seed: int) -> None:
        self.state = splitmix64(seed)

    def below(self, n: int) -> int:
        self.state = (self.state + GOLDEN) & MASK
        # splitmix64(x) adds the golden ratio itself: undo it to mix the state as is
        z = splitmix64((self.state - GOLDEN) & MASK)
        return min(int(float(z >> 11) * (1.0 / 9007199254740992.0) * n), n - 1)


@dataclass
class Segment:
    cell: int
    ordinal: int
    last_used: int
    synapses: list[list] = field(default_factory=list)  # [presyn, float32 permanence], slot order


class ReferenceTM:
    def __init__(self, p) -> None:
        self.p = p
        self.rng = Stream(p.seed)
        self.segments: dict[int, Segment] = {}  # key: ordinal
        self.by_cell: dict[int, list[Segment]] = {}
        self.iteration = 0
        self.next_ordinal = 0
        self.active: list[int] = []
        self.winners: list[int] = []
        self.prev_active: set[int] = set()
        self.prev_winners: list[int] = []
        self.active_segments: list[Segment] = []
        self.matching_segments: list[Segment] = []
        self.potential: dict[int, int] = {}
        self.predictive: list[int] = []

    # structural changes
    def new_segment(self, cell: int) -> Segment:
        mine = self.by_cell.setdefault(cell, [])
        if len(mine) >= self.p.max_segments_per_cell:
            victim = min(mine, key=lambda g: (g.last_used, g.ordinal))
            self.remove_segment(victim)
        seg = Segment(cell, self.next_ordinal, self.iteration)
        self.next_ordinal += 1
        self.segments[seg.ordinal] = seg
        mine.append(seg)
        return seg

    def remove_segment(self, seg: Segment) -> None:
        del self.segments[seg.ordinal]
        self.by_cell[seg.cell].remove(seg)

    @staticmethod
    def remove_synapse(seg: Segment, slot: int) -> None:
        seg.synapses[slot] = seg.synapses[-1]
        seg.synapses.pop()

    def adapt(self, seg: Segment, up: float, down: float) -> None:
        for slot in range(len(seg.synapses) - 1, -1, -1):
            presyn, perm = seg.synapses[slot]
            value = float(perm) + up if presyn in self.prev_active else float(perm) - down
            value = min(max(value, 0.0), 1.0)
            if value < EPSILON:
                self.remove_synapse(seg, slot)
            else:
                seg.synapses[slot][1] = np.float32(value)
        if not seg.synapses:
            self.remove_segment(seg)

    def grow(self, seg: Segment, wanted: int) -> None:
        have = {s[0] for s in seg.synapses}
        candidates = [c for c in self.prev_winners if c not in have]
        n_new = min(wanted, len(candidates))
        limit = self.p.max_synapses_per_segment
        overrun = len(seg.synapses) + n_new - limit
        if overrun > 0:
            excluded = set(self.prev_winners)
            for _ in range(overrun):
                weakest = None
                for slot, (presyn, perm) in enumerate(seg.synapses):
                    if presyn not in excluded and (weakest is None or perm < seg.synapses[weakest][1]):
                        weakest = slot
                if weakest is None:
                    break
                self.remove_synapse(seg, weakest)
            n_new = min(n_new, limit - len(seg.synapses))
        for _ in range(n_new):
            pick = self.rng.below(len(candidates))
            seg.synapses.append([candidates[pick], np.float32(self.p.initial_permanence)])
            candidates[pick] = candidates[-1]
            candidates.pop()

    def least_used(self, column: int) -> int:
        cells = range(column * self.p.cells_per_column, (column + 1) * self.p.cells_per_column)
        counts = [len(self.by_cell.get(c, [])) for c in cells]
        fewest = min(counts)
        ties = [c for c, n in zip(cells, counts, strict=True) if n == fewest]
        return ties[self.rng.below(len(ties))]

    # one step
    def compute(self, columns, learn: bool = True) -> float:
        p, K = self.p, self.p.cells_per_column
        columns = [int(c) for c in columns]
        predicted_columns = {c // K for c in self.predictive}
        anomaly = sum(c not in predicted_columns for c in columns) / len(columns) if columns else 0.0
        self.prev_active, self.prev_winners = set(self.active), list(self.winners)
        self.active, self.winners = [], []
        active_of = {}
        for seg in self.active_segments:
            active_of.setdefault(seg.cell // K, []).append(seg)
        matching_of = {}
        for seg in self.matching_segments:
            matching_of.setdefault(seg.cell // K, []).append(seg)
        for col in columns:
            if col in active_of:
                for seg in active_of[col]:
                    if not self.active or self.active[-1] != seg.cell:
                        self.active.append(seg.cell)
                        self.winners.append(seg.cell)
                    if learn:
                        wanted = p.max_new_synapses - self.potential[seg.ordinal]
                        self.adapt(seg, p.permanence_increment, p.permanence_decrement)
                        if wanted > 0 and seg.ordinal in self.segments:
                            self.grow(seg, wanted)
                continue
            self.active.extend(range(col * K, col * K + K))
            if col in matching_of:
                best = matching_of[col][0]
                for seg in matching_of[col][1:]:
                    if self.potential[seg.ordinal] > self.potential[best.ordinal]:
                        best = seg
                winner = best.cell
                if learn:
                    wanted = p.max_new_synapses - self.potential[best.ordinal]
                    self.adapt(best, p.permanence_increment, p.permanence_decrement)
                    if wanted > 0 and best.ordinal in self.segments:
                        self.grow(best, wanted)
            else:
                winner = self.least_used(col)
                if learn and self.prev_winners:
                    seg = self.new_segment(winner)
                    self.grow(seg, min(p.max_new_synapses, len(self.prev_winners)))
            self.winners.append(winner)
        if learn and p.predicted_segment_decrement > 0:
            chosen = set(columns)
            for seg in self.matching_segments:
                if seg.cell // K not in chosen and seg.ordinal in self.segments:
                    self.adapt(seg, -p.predicted_segment_decrement, 0.0)
        self.dendrites(learn)
        return anomaly

    def dendrites(self, learn: bool) -> None:
        p = self.p
        firing = set(self.active)
        self.potential, connected = {}, {}
        for seg in self.segments.values():
            here = [perm for presyn, perm in seg.synapses if presyn in firing]
            if here:
                self.potential[seg.ordinal] = len(here)
                connected[seg.ordinal] = sum(float(x) >= p.connected_permanence - EPSILON for x in here)
        touched = sorted((self.segments[o] for o in self.potential), key=lambda g: (g.cell, g.ordinal))
        self.active_segments = [g for g in touched if connected[g.ordinal] >= p.activation_threshold]
        self.matching_segments = [g for g in touched if self.potential[g.ordinal] >= p.min_threshold]
        self.predictive = sorted({g.cell for g in self.active_segments})
        if learn:
            for g in self.active_segments:
                g.last_used = self.iteration
            self.iteration += 1

    def reset(self) -> None:
        self.active, self.winners, self.prev_active, self.prev_winners = [], [], set(), []
        self.active_segments, self.matching_segments, self.predictive = [], [], []
