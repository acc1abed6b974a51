"""Reservoir computing: readouts against closed forms and peers, the ESN against a plain
numpy loop and against reservoirpy, memory capacity and NARMA10 against theory and the
literature, the LSM's features against their closed form."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import snn
from snn.reservoir import ESN, LSM, RLS, Ridge, Softmax, filtered_spikes, spectral_radius
from studies.experiments import reservoir_runs
from studies.experiments.reservoir_tasks import mackey_glass, nrmse


def _regression(seed=0, samples=200, features=6, outputs=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, features)) + 3.0  # a large mean: centring must stay accurate
    y = x @ rng.normal(size=(features, outputs)) + 0.1 * rng.normal(size=(samples, outputs)) + 5.0
    return x, y


@pytest.mark.parametrize("fit_bias", [False, True])
def test_ridge_equals_least_squares(fit_bias):
    x, y = _regression()
    ridge = 0.3
    design = np.hstack([x, np.ones((len(x), 1))]) if fit_bias else x
    penalty = np.sqrt(ridge) * np.eye(design.shape[1])
    if fit_bias:
        penalty[-1, -1] = 0.0  # the bias is not penalised
    expected = np.linalg.lstsq(np.vstack([design, penalty]), np.vstack([y, np.zeros((design.shape[1], 2))]),
                               rcond=None)[0]  # fmt: skip
    model = Ridge(ridge, fit_bias=fit_bias).fit(x, y)
    np.testing.assert_allclose(model.weights, expected[: x.shape[1]], rtol=0, atol=1e-8)
    if fit_bias:
        np.testing.assert_allclose(model.bias, expected[-1], rtol=0, atol=1e-8)
    # accumulated in chunks: the same solution
    chunked = Ridge(ridge, fit_bias=fit_bias)
    for part in np.array_split(np.arange(len(x)), 7):
        chunked.partial_fit(x[part], y[part])
    chunked.solve()
    np.testing.assert_allclose(chunked.weights, model.weights, rtol=0, atol=1e-9)


def test_two_thread_gram_equals_numpy():
    """From 256 features the Gram splits between two worker threads (when there are two)."""
    from snn.reservoir.readouts import ONE_THREAD_GRAM, _blas_threads, _gram_upper

    rng = np.random.default_rng(6)
    x = rng.normal(size=(700, ONE_THREAD_GRAM[0] + 45))
    with _blas_threads(x.shape[1]):
        gram = _gram_upper(x)
    upper = np.triu_indices(x.shape[1])
    np.testing.assert_allclose(gram[upper], (x.T @ x)[upper], rtol=1e-12, atol=1e-10)


def test_ridge_dual_form_equals_primal_when_features_outnumber_samples():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 80)) + 1.0, rng.normal(size=(30, 3))
    dual = Ridge(1e-2).fit(x, y)  # T < N: the T x T system
    primal = Ridge(1e-2).partial_fit(x, y).solve()  # always the N x N system
    np.testing.assert_allclose(dual.weights, primal.weights, rtol=0, atol=1e-8)
    np.testing.assert_allclose(dual.bias, primal.bias, rtol=0, atol=1e-8)


def test_rls_converges_to_the_ridge_solution():
    x, y = _regression(seed=2, samples=400)
    rls = RLS(x.shape[1], y.shape[1], regularization=0.5)
    errors = rls.update(x, y)
    ridge = Ridge(0.5, fit_bias=False).fit(x, y)
    np.testing.assert_allclose(rls.weights, ridge.weights, rtol=1e-8, atol=1e-9)
    assert np.abs(errors[-50:]).mean() < 0.2 * np.abs(errors[:5]).mean()  # it learned online


def test_softmax_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    centres = rng.normal(scale=2.0, size=(3, 4))
    labels = rng.integers(0, 3, 300)
    x = centres[labels] + rng.normal(size=(300, 4))
    l2 = 0.05
    ours = Softmax(l2=l2, max_iterations=2000).fit(x, labels)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    # the same objective: sklearn's 1/(2C) ||w||^2 + sum of losses = n (l2/2 ||w||^2 + mean loss)
    peer = LogisticRegression(C=1.0 / (l2 * len(x)), tol=1e-10, max_iter=10_000).fit(z, labels)
    np.testing.assert_allclose(ours.predict_proba(x), peer.predict_proba(z), atol=1e-4)


def _numpy_esn(weights, leak, inputs, feedback, activation=np.tanh):
    w = weights.w.toarray()
    x = np.zeros(w.shape[0])
    previous_y = np.zeros(weights.w_fb.shape[1])
    states = []
    for t in range(inputs.shape[0]):
        x = (1 - leak) * x + leak * activation(
            w @ x + weights.w_in @ inputs[t] + weights.bias + weights.w_fb @ previous_y
        )
        previous_y = feedback[t] if feedback is not None else previous_y
        states.append(x)
    return np.array(states)


@pytest.mark.parametrize("units", [60, 800])  # 800 x 0.4 synapses takes the row-parallel kernel
def test_esn_kernel_equals_a_numpy_loop(units):
    rng = np.random.default_rng(4)
    esn = ESN(
        units=units, spectral_radius=0.9, leak=0.4, bias_scaling=0.2, feedback_scaling=0.3, connectivity=0.4
    )
    weights = esn.initial_weights(n_inputs=3, n_feedback=2, seed=5)
    inputs, teacher = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    expected = _numpy_esn(weights, 0.4, inputs, teacher)
    np.testing.assert_allclose(esn.run(weights, inputs, feedback=teacher), expected, rtol=0, atol=1e-12)
    batch = esn.run(weights, np.stack([inputs, inputs[::-1]]), feedback=np.stack([teacher, teacher[::-1]]))
    np.testing.assert_allclose(batch[0], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch[1], _numpy_esn(weights, 0.4, inputs[::-1], teacher[::-1]), atol=1e-12)
    single = esn.with_(dtype="float32")
    weights32 = single.initial_weights(n_inputs=3, n_feedback=2, seed=5)
    assert single.run(weights32, inputs, feedback=teacher).dtype == np.float32
    np.testing.assert_allclose(single.run(weights32, inputs, feedback=teacher), expected, atol=1e-4)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_esn_worker_threads_give_the_single_thread_states_bit_for_bit(workers):
    from snn.kernels import reservoir as kernels
    from snn.workers import Workers, even_split

    rng = np.random.default_rng(8)
    esn = ESN(units=301, spectral_radius=0.9, leak=0.3, feedback_scaling=0.2, connectivity=0.3)
    weights = esn.initial_weights(n_inputs=2, n_feedback=1, seed=2)
    arguments = (
        *esn._kernel_weights(weights),
        rng.normal(size=(1, 80, 2)),
        rng.normal(size=(1, 80, 1)),
        rng.normal(size=(1, 301)),
    )
    serial, shared = np.empty((1, 80, 301)), np.empty((1, 80, 301))
    kernels.run_single(*arguments, serial)
    split = even_split(301, workers)
    with Workers(workers) as pool:
        pool.run(lambda worker: kernels.run_share(worker, split, pool.sync, *arguments, shared))
    np.testing.assert_array_equal(shared, serial)


def test_esn_falling_back_to_one_worker_mid_series_changes_nothing(monkeypatch):
    import snn.reservoir.esn
    import snn.workers
    from snn.kernels import reservoir as kernels

    esn = ESN(units=800, spectral_radius=0.9, leak=0.3)  # 64 000 synapses: the threaded path
    weights = esn.initial_weights(n_inputs=1, seed=3)
    inputs = np.random.default_rng(2).normal(size=(230, 1))
    serial = np.empty((1, 230, 800))
    no_feedback, start = np.zeros((1, 230, 0)), np.zeros((1, 800))
    kernels.run_single(*esn._kernel_weights(weights), inputs[None], no_feedback, start, serial)
    monkeypatch.setattr(snn.reservoir.esn, "CONTENTION_CHECK_STEPS", 40)
    monkeypatch.setattr(snn.workers, "MIN_BUSY_FRACTION", 2.0)  # every check finds the cores busy
    np.testing.assert_array_equal(esn.run(weights, inputs), serial[0])


def test_spectral_radius_sparse_equals_dense_and_scaling_hits_the_target():
    rng = np.random.default_rng(6)
    matrix = sp.random(1200, 1200, density=0.01, random_state=rng, data_rvs=rng.standard_normal, format="csr")
    dense = np.max(np.abs(np.linalg.eigvals(matrix.toarray())))
    assert spectral_radius(matrix) == pytest.approx(dense, rel=1e-8)
    weights = ESN(units=1200, spectral_radius=0.8).initial_weights(1, seed=0)
    assert np.max(np.abs(np.linalg.eigvals(weights.w.toarray()))) == pytest.approx(0.8, rel=1e-8)


def test_free_running_step_equals_a_teacher_forced_step_with_the_readout_output():
    esn = ESN(units=40, spectral_radius=0.9, leak=0.5)
    weights = esn.initial_weights(1, seed=1)
    series = np.sin(np.arange(300) * 0.1)[:, None]
    states = esn.run(weights, series)
    readout = Ridge(1e-6).fit(states[50:299], series[51:])
    last_output = series[-1]
    states_free, outputs = esn.generate(weights, readout, 3, states[-1], last_output)
    forced = esn.run(weights, last_output[None, :], initial_state=states[-1])
    np.testing.assert_allclose(states_free[0], forced[0], atol=1e-12)
    np.testing.assert_allclose(outputs[0], readout.predict(forced)[0], atol=1e-12)


def test_mackey_glass_one_step_as_good_as_reservoirpy():
    """Same series, same hyperparameters (100 units, sr 1.25, leak 0.3, ridge 1e-5, the
    80/20 split of reservoirpy's README example, 100 washout steps). A single reservoir's
    NRMSE varies by a factor of two with its random draw, so medians over 40 draws each
    are compared. reservoirpy's documented RMSE is about 0.002 on its own series."""
    rpy_nodes = pytest.importorskip("reservoirpy.nodes")
    series = mackey_glass(2001)
    x, y = series[:-1, None], series[1:, None]
    washout, split = 100, 1599
    ours, theirs = [], []
    for seed in range(40):
        ours.append(reservoir_runs.esn_mackey_glass(ESN(units=100, spectral_radius=1.25, leak=0.3), 1e-5,
                                                    seed=seed, series=series)["nrmse"])  # fmt: skip
        model = rpy_nodes.Reservoir(100, lr=0.3, sr=1.25, seed=seed) >> rpy_nodes.Ridge(ridge=1e-5)
        model.fit(x[:split], y[:split], warmup=washout)
        theirs.append(nrmse(y[split:], model.run(x[split:])))
    assert np.median(ours) <= 1.1 * np.median(theirs), (np.median(ours), np.median(theirs))
    assert np.median(ours) < 0.03  # RMSE ~0.005 of a series with std ~0.23


def test_memory_capacity_of_an_orthogonal_linear_reservoir_reaches_its_size():
    esn = ESN(units=50, spectral_radius=0.95, leak=1.0, activation="identity", recurrent="orthogonal",
              input_scaling=0.1, input_connectivity=1.0)  # fmt: skip
    capacity = reservoir_runs.esn_memory_capacity(esn, ridge=1e-10, seed=0)["memory_capacity"]
    # Jaeger (2001): MC <= N, with equality for linear reservoirs such as this one; the
    # finite test set adds a small positive bias to each of the 100 squared correlations
    assert 0.9 * 50 <= capacity <= 50 + 0.5


def test_narma10_with_200_units():
    esn = ESN(units=200, spectral_radius=0.8, leak=1.0, input_scaling=0.1, input_connectivity=1.0)
    result = reservoir_runs.esn_narma10(esn, ridge=1e-8, seed=0)
    assert result["nrmse"] <= 0.3


def test_filtered_spikes_closed_form():
    features = filtered_spikes([0.01, 0.02, 0.02], [0, 0, 1], 2, [0.015, 0.03, 0.05], tau=0.01)
    e = np.exp
    expected = [[e(-0.5), 0.0], [e(-2) + e(-1), e(-1)], [e(-4) + e(-3), e(-3)]]
    np.testing.assert_allclose(features, expected, rtol=1e-12)


def test_lsm_is_a_network_and_distance_connectivity_decays():
    source = snn.PoissonSource(name="input", size=80, rate=100.0)
    lsm = LSM(units=216, connectivity="distance", length=1.5)
    net = lsm.network(source, seed=0)
    assert set(net.populations) == {"exc", "inh"} and net.populations["exc"].size == lsm.n_exc
    ee = next(p for p in net.projections if p.name == "exc_exc").connectivity
    assert 0 < ee.pre.size < 0.3 * lsm.n_exc**2  # sparse, local
    result = snn.Simulator(net, dt=1e-3, seed=0, progress=False).run(0.2)
    assert result.mean_rate() > 0.5


def test_lsm_classifies_digits():
    result = reservoir_runs.lsm_digits(LSM(units=300), seed=0)
    assert result["accuracy"] >= 0.8 and result["mean_rate_hz"] > 1.0


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: ESN(spectral_radius=0.0), "ESN.spectral_radius"),
        (lambda: ESN(leak=1.5), "ESN.leak"),
        (lambda: ESN(leak=0.0), "ESN.leak"),
        (lambda: reservoir_runs.esn_mackey_glass(ESN(units=10), 1e-5, series=np.ones(50)), "series"),
        (
            lambda: reservoir_runs.esn_mackey_glass(ESN(units=10), 1e-5, series=np.r_[np.nan, np.ones(300)]),
            "series",
        ),
        (lambda: ESN(units=5).run(ESN(units=5).initial_weights(1), np.ones((4, 2))), "inputs"),
        (lambda: Ridge(-1.0), "Ridge.ridge"),
        (
            lambda: ESN(units=5).run(
                ESN(units=5).initial_weights(1), np.ones((4, 1)), initial_state=np.ones(3)
            ),
            "initial_state",
        ),
        (
            lambda: ESN(units=5).generate(
                ESN(units=5).initial_weights(1),
                Ridge(0.1).fit(np.ones((9, 5)), np.ones(9)),
                3,
                np.ones(4),
                np.ones(1),
            ),
            "last_state",
        ),
    ],
)
def test_bad_input_names_the_field(make, field):
    with pytest.raises(snn.ValidationError) as error:
        make()
    assert error.value.field == field
