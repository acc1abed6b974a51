"""The kernel that lists a step's spikes tests 8 flags at a time; it must list exactly the
set flags of its range, in order, for any range (unaligned, shorter than a word, empty)."""

import numpy as np

from snn.kernels.simulate import _list_fired


def test_spike_listing_matches_flatnonzero_for_every_range():
    rng = np.random.default_rng(0)
    size = 48  # a multiple of 8, as the simulator pads it
    for density in (0.0, 0.05, 0.5, 1.0):
        fired = rng.random(size) < density
        spiked = np.full(size + 3, -1, dtype=np.int64)
        for begin in range(size + 1):
            for end in range(begin, size + 1):
                spiked[:] = -1
                count = _list_fired(fired, begin, end, spiked, 3)
                expected = begin + np.flatnonzero(fired[begin:end])
                assert count == 3 + expected.size
                np.testing.assert_array_equal(spiked[3:count], expected)
                assert (spiked[:3] == -1).all() and (spiked[count:] == -1).all()
