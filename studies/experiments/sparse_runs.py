"""Sparse coding of digit patches, one LASSO solved four ways: ISTA, FISTA, LISTA, and the
spiking LCA on the simulator (and on Brian2).

Data: 6x6 patches of scikit-learn's 8x8 digits (9 per image), each with its mean removed;
a dictionary learned on them
(:func:`ann_bridge.sparse.learn_dictionary`). The rows of the study:

- :func:`solver_curves`: the objective gap per iteration of ISTA and FISTA against
  scikit-learn's ``Lasso`` optimum (the O(1/k), O(1/k^2) plot);
- :func:`lista_table`: LISTA with K steps, trained to regress the optimal codes (FISTA to
  convergence) of the training patches, against the number of FISTA iterations that reach
  the same code error on held-out patches (Gregor & LeCun 2010's comparison);
- :func:`lca_table`: per patch, the spiking LCA's objective gap, time to solution (simulated
  seconds to stay within 1 %), spikes, synaptic operations and energy estimates, beside
  FISTA's wall time and multiply-accumulates to the same 1 %.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from snn import validate
from snn.errors import ValidationError

PATCH = 6
SOLVERS = ("ista", "fista", "lista", "lca")
#: the backends besides the simulator that express the spiking LCA (NIR refuses it: its IF
#: node resets to a value, and a constant current needs a delta-synapse input there)
LCA_BACKENDS = ("brian2", "nengo")


def digit_patches(seed: int = 0) -> np.ndarray:
    """Mean-removed 6x6 patches of the digits (9 per image, 16 173 in all; every one has ink),
    shuffled by ``seed`` (n, 36)."""
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    offsets = range(8 - PATCH + 1)
    patches = np.stack([images[:, r : r + PATCH, c : c + PATCH].reshape(len(images), -1)
                        for r in offsets for c in offsets], axis=1).reshape(-1, PATCH * PATCH)  # fmt: skip
    patches = patches - patches.mean(1, keepdims=True)
    return patches[np.random.default_rng(seed).permutation(len(patches))]


def problem(atoms: int = 144, lam: float = 0.05, seed: int = 0, patches: int = 8000, progress=None):
    """(dictionary (36, atoms), patches (n, 36)) for a run: the dictionary learned on
    ``patches`` patches."""
    from ann_bridge.sparse import learn_dictionary

    atoms = validate.count("--atoms", atoms, low=2, high=4096)
    lam = validate.non_negative("--lambda", lam)
    x = digit_patches(seed)
    patches = validate.count("--patches", patches, low=100, high=len(x))
    dictionary = learn_dictionary(x[:patches], atoms, lam, epochs=5, seed=seed, progress=progress)
    return dictionary, x[:patches]


def synthetic_problem(seed: int = 0, dim: int = 40, atoms: int = 80, lam: float = 0.1, active: int = 6,
                      scale: float = 1.0, normalise: bool = True):  # fmt: skip
    """(dictionary (dim, atoms), signal (dim,), lam): Gaussian atoms (unit-norm when
    ``normalise``, else of norm ~ ``scale sqrt(dim)``), a signal of ``active`` of them with
    Gaussian weights plus noise of std 0.05 -- the small LASSO the tests solve every way."""
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((dim, atoms)) * scale
    if normalise:
        phi /= np.linalg.norm(phi, axis=0)
    truth = np.zeros(atoms)
    truth[rng.choice(atoms, active, replace=False)] = rng.standard_normal(active)
    return phi, phi @ truth + 0.05 * rng.standard_normal(dim), lam


def sklearn_optimum(dictionary: np.ndarray, signal: np.ndarray, lam: float, positive: bool = False):
    """(codes, objective) of scikit-learn's coordinate-descent Lasso on one signal (the
    independent reference; its ``alpha`` is ``lam / dim`` for its 1/(2 n_samples) scaling)."""
    from sklearn.linear_model import Lasso

    from snn.lca import lasso_objective

    model = Lasso(
        alpha=lam / len(signal), fit_intercept=False, tol=1e-14, max_iter=500_000, positive=positive
    )
    codes = model.fit(dictionary, signal).coef_
    return codes, float(lasso_objective(dictionary, signal, codes, lam)[0])


def solver_curves(dictionary, signal, lam: float, iterations: int = 500) -> dict:
    """Objective gaps per iteration of ISTA and FISTA on ``signal`` against sklearn's optimum,
    and both solvers' objectives at convergence (relative difference to sklearn's)."""
    from ann_bridge.sparse import fista, ista
    from snn.lca import lasso_objective

    _, optimum = sklearn_optimum(dictionary, signal, lam)
    report = {"sklearn_objective": optimum}
    for solver in (ista, fista):
        name = solver.__name__
        report[f"{name}_gap"] = (solver(dictionary, signal, lam, iterations=iterations, record=True)
                                 .objectives[:, 0] - optimum).tolist()  # fmt: skip
        start = time.perf_counter()
        final = solver(dictionary, signal, lam, iterations=200_000, tol=1e-13, record=False)
        report[f"{name}_seconds"] = time.perf_counter() - start
        report[f"{name}_iterations"] = final.iterations
        objective = float(lasso_objective(dictionary, signal, final.codes.numpy(), lam)[0])
        report[f"{name}_relative_to_sklearn"] = objective / optimum - 1
    return report


def lista_table(dictionary, patches, lam: float, steps=(3, 5, 10), epochs: int = 200, test: int = 1000,
                seed: int = 0, progress=None) -> list[dict]:  # fmt: skip
    """Per K in ``steps`` (increasing): LISTA's held-out code error after training, ISTA's and
    FISTA's after K iterations, and the FISTA iterations needed to match LISTA
    (``fista_iterations_needed``, ``ratio`` = that / K). Each depth starts from the trained
    weights of the previous one (the recurrence shares W_e, S and theta across steps, so a
    shallower solution is a good start; the first starts at ISTA)."""
    from ann_bridge.sparse import LISTA, fista, ista, relative_code_error, train

    test = validate.count("test", test, low=10, high=len(patches) - 10)
    optimal = fista(dictionary, patches, lam, iterations=3000, tol=1e-9).codes
    x_train, x_test = patches[:-test], patches[-test:]
    z_train, z_test = optimal[:-test], optimal[-test:]
    reference = fista(dictionary, x_test, lam, iterations=3000, reference=z_test).code_errors
    ista_errors = ista(dictionary, x_test, lam, iterations=max(steps), reference=z_test).code_errors
    rows = []
    previous = None
    for k in sorted(steps):
        torch.manual_seed(seed)
        model = LISTA(dictionary, lam, steps=k)
        if previous is not None:
            model.load_state_dict(previous.state_dict())
        previous = model
        start = time.perf_counter()
        train(model, x_train, z_train.numpy(), epochs=epochs, lr=1e-3, seed=seed, progress=progress)
        with torch.no_grad():
            error = relative_code_error(model(torch.as_tensor(x_test, dtype=torch.float32)).double(), z_test)
        reached = np.flatnonzero(reference <= error)
        needed = int(reached[0]) + 1 if reached.size else None
        rows.append({"steps": k, "lista_error": error, "ista_error": float(ista_errors[k - 1]),
                     "fista_error": float(reference[k - 1]), "fista_iterations_needed": needed,
                     "ratio": needed / k if needed else None,
                     "train_seconds": time.perf_counter() - start})  # fmt: skip
    return rows


def lca_row(dictionary, signal, lam: float, duration: float = 4.0, dt: float = 1e-4, backend: str = "numba",
            tolerance: float = 0.01) -> dict:  # fmt: skip
    """The spiking LCA on one signal: objective gap of the rate code over the second half of
    the run, time to solution, spikes, synaptic operations (spikes x fan-out), energy
    estimates (Loihi's 23.6 pJ per synaptic op; 45 nm accumulates at 0.9 pJ), wall time; and
    FISTA to the same ``tolerance``: iterations, median wall time of 7 runs, multiply-accumulates, energy at
    4.6 pJ per MAC. ``backend``: ``numba`` (the simulator), ``brian2`` or ``nengo``."""
    from ann_bridge.cost import AC_J, LOIHI_SOP_J, MAC_J
    from ann_bridge.sparse import fista
    from snn.lca import LCA, POPULATION, lasso_objective
    from snn.simulator import Simulator

    _, optimum = sklearn_optimum(dictionary, signal, lam)
    lca = LCA(dictionary=dictionary, signal=signal, lam=lam)
    network = lca.network()
    start = time.perf_counter()
    if backend == "numba":
        result = Simulator(network, dt=dt, progress=False).run(duration)
    elif backend in LCA_BACKENDS:
        import hardware

        result = hardware.get(backend).run(network, duration, dt=dt, progress=False)
    else:
        raise ValidationError("--backend", f"must be one of {['numba', *LCA_BACKENDS]}, got {backend!r}")
    wall = time.perf_counter() - start
    codes = lca.codes(result, duration / 2)
    _, ids = result.spikes[POPULATION]
    fan_out = np.count_nonzero(network.projections[0].connectivity.weights, axis=1)
    synaptic_ops = int(fan_out[ids].sum())
    fista_run = fista(dictionary, signal, lam, iterations=20_000, record=True)
    within = np.flatnonzero(fista_run.objectives[:, 0] <= optimum * (1 + tolerance))
    if within.size == 0:
        raise ValidationError(
            "--lambda", f"FISTA did not come within {tolerance:.0%} of the optimum in 20 000 steps"
        )
    fista_iterations = int(within[0]) + 1
    fista_seconds = _median_seconds(lambda: fista(dictionary, signal, lam, iterations=fista_iterations))
    atoms, dim = dictionary.shape[1], dictionary.shape[0]
    fista_macs = dim * atoms + fista_iterations * atoms * atoms  # x Phi once, then z G per step
    return {
        "backend": backend,
        "neurons": lca.size,
        "objective_gap": float(lasso_objective(dictionary, signal, codes, lam)[0]) / optimum - 1,
        "time_to_solution_s": lca.time_to_solution(result, optimum, tolerance),
        "spikes": int(ids.size),
        "synaptic_ops": synaptic_ops,
        "energy_loihi_j": synaptic_ops * LOIHI_SOP_J,
        "energy_45nm_j": synaptic_ops * AC_J,
        "wall_s": wall,
        "fista_iterations": fista_iterations,
        "fista_wall_s": fista_seconds,
        "fista_macs": fista_macs,
        "fista_energy_45nm_j": fista_macs * MAC_J,
        "nonzero_codes": int(np.sum(np.abs(codes) > 0)),
        "codes": codes.tolist(),
    }


def _median_seconds(call, repeats: int = 7) -> float:
    """The median wall time of ``repeats`` calls (one-shot timings of millisecond work are noise)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def check_solver(solver: str) -> str:
    if solver not in (*SOLVERS, "all"):
        raise ValidationError("--solver", f"must be one of {[*SOLVERS, 'all']}, got {solver!r}")
    return solver
