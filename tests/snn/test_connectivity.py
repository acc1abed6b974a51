import numpy as np
import pytest
import scipy.sparse

import snn
from snn.build.connect import build_block


def _block(rule, n_pre, n_post, same=False, seed=0):
    return build_block(rule, n_pre, n_post, same, 1e-4, np.random.default_rng(seed), np.float64, "test")


def _pairs(block):
    rows = np.repeat(np.arange(block.indptr.size - 1), np.diff(block.indptr))
    return rows, block.indices


def test_fixed_probability_count_and_uniformity():
    n_pre, n_post, p = 2000, 1500, 0.03
    block = _block(snn.FixedProbability(p=p, weight=0.5), n_pre, n_post)
    expected = n_pre * n_post * p
    assert abs(block.n_synapses - expected) < 5 * np.sqrt(expected * (1 - p))
    rows, cols = _pairs(block)
    assert np.all(np.diff(block.indices[block.indptr[0] : block.indptr[1]]) > 0)  # sorted, distinct
    # targets uniform over post neurons: chi-square against a flat distribution
    counts = np.bincount(cols, minlength=n_post)
    chi2 = np.sum((counts - counts.mean()) ** 2 / counts.mean())
    assert chi2 < n_post + 5 * np.sqrt(2 * n_post)
    assert np.all(block.weights == 0.5)


def test_fixed_probability_without_autapses():
    block = _block(snn.FixedProbability(p=1.0, allow_autapses=False), 50, 50, same=True)
    rows, cols = _pairs(block)
    assert block.n_synapses == 50 * 49 and not np.any(rows == cols)


def test_fixed_in_degree_is_exact_and_distinct():
    block = _block(snn.FixedInDegree(in_degree=7, allow_autapses=False), 30, 30, same=True, seed=4)
    rows, cols = _pairs(block)
    assert np.all(np.bincount(cols, minlength=30) == 7)
    assert not np.any(rows == cols)
    assert np.unique(rows * 30 + cols).size == rows.size


def test_all_to_all_and_sparse_keep_weights_and_delays():
    weights = np.arange(12, dtype=float).reshape(3, 4)  # the zero entry makes no synapse
    block = _block(snn.AllToAll(weights=weights), 3, 4)
    dense = np.zeros((3, 4))
    rows, cols = _pairs(block)
    dense[rows, cols] = block.weights
    np.testing.assert_array_equal(dense, weights)
    assert block.n_synapses == 11

    matrix = scipy.sparse.random(20, 30, density=0.2, random_state=1, format="csr")
    delays = np.round(matrix.tocoo().data * 10) * 1e-4
    block = _block(snn.Sparse.from_matrix(matrix, delays=delays), 20, 30)
    rows, cols = _pairs(block)
    rebuilt = scipy.sparse.csr_matrix((block.weights, (rows, cols)), shape=(20, 30))
    assert (rebuilt != matrix).nnz == 0
    coo = matrix.tocoo()
    order = np.lexsort((coo.col, coo.row))
    np.testing.assert_array_equal(block.delays, np.rint(delays[order] / 1e-4).astype(np.uint16))


def test_weights_follow_simulator_dtype():
    net = snn.Network()
    net.add(snn.Population(name="a", size=100, model=snn.LIF()))
    net.connect("a", "a", snn.FixedProbability(p=0.1, weight=1e-3))
    single = snn.Simulator(net, dtype="float32", progress=False).model
    double = snn.Simulator(net, dtype="float64", progress=False).model
    assert single.connectivity.weights.dtype == np.float32
    assert single.nbytes_synapses < double.nbytes_synapses
    np.testing.assert_array_equal(single.connectivity.targets, double.connectivity.targets)


@pytest.mark.parametrize("seed", [0, 1])
def test_connectivity_depends_only_on_seed(seed):
    def targets():
        net = snn.Network()
        net.add(snn.Population(name="a", size=300, model=snn.LIF()))
        net.connect("a", "a", snn.FixedProbability(p=0.05))
        return snn.Simulator(net, seed=seed, progress=False).model.connectivity.targets

    np.testing.assert_array_equal(targets(), targets())


@pytest.mark.parametrize("p", [1e-19, 1e-300, 0.0])
def test_tiny_probabilities_make_no_synapses(p):
    block = _block(snn.FixedProbability(p=p), 5, 5)
    assert block.n_synapses == 0 and np.all(block.indptr == 0)
