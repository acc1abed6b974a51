r"""Sparse coding by a spiking network: the locally competitive algorithm (LCA) with
integrate-and-fire neurons.

The problem (LASSO): for a signal ``x`` (dim,) and a dictionary ``Phi`` (dim, atoms),

.. math::  \min_a \; E(a) = \tfrac12 \lVert x - \Phi a \rVert_2^2 + \lambda \lVert a \rVert_1 .

Rozell et al. (2008) solve it with a dynamical system whose neurons compete through the
Gram matrix ``G = Phi^T Phi``; Tang, Lin & Davies (2017, "Sparse coding by spiking neural
networks: convergence theory and computational results") show that the *spiking* version
(SLCA, the one Loihi runs, Davies et al. 2018) converges: the firing rates of
non-leaky integrate-and-fire neurons with lateral inhibition tend to the solution of the
non-negative LASSO. This module builds that network as an :class:`snn.Network`:

- each atom ``i`` (its column normalised to ``n_i = |Phi_i|``) is one IF neuron with
  ``C = 1 F``, threshold 1 V, subtractive reset, driven by the constant current
  ``(b_i - lambda / n_i) / kappa`` (A) where ``b = Phi_n^T x`` uses the normalised columns;
- neuron ``j`` inhibits neuron ``i != j`` through an exponential synapse (``tau_syn``) of
  weight ``-G_ij / tau_syn`` (A), so each spike removes ``G_ij`` (V) from ``v_i`` in total;
- the code is read from rates: ``a_i = kappa r_i / n_i`` with ``kappa`` (s) the code per
  hertz. At a steady state the mean drive of a firing neuron is ``r_i`` (one threshold per
  spike), which gives ``kappa r_i = b_i - lambda_i - sum_{j != i} G_ij kappa r_j`` -- the
  fixed point of the non-negative LASSO in the normalised atoms -- and a silent neuron's mean
  drive is <= 0, its KKT condition.
- ``signed=True`` (default) solves the ordinary (signed) LASSO with two neurons per atom,
  one for ``+Phi_i`` and one for ``-Phi_i`` (the non-negative LASSO on ``[Phi, -Phi]`` is the
  LASSO on ``Phi``).

Membrane potentials are not bounded below: a neuron whose drive is negative keeps a
negative potential, the IF dynamics Tang et al. analyse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.errors import ValidationError

#: names of the population and its probe in the networks :func:`lca_network` builds
POPULATION = "lca"


def check_problem(dictionary, signals, lam) -> tuple[np.ndarray, np.ndarray, float]:
    """Validate a LASSO problem: ``dictionary`` (dim, atoms), ``signals`` (dim,) or (n, dim),
    ``lam`` >= 0. Returns (dictionary, signals as (n, dim), lam) as float64.

    Raises :class:`ValidationError` naming ``dictionary``, ``signals`` or ``lambda``."""
    phi = validate.finite_array("dictionary", dictionary)
    if phi.ndim != 2 or min(phi.shape) < 1:
        raise ValidationError("dictionary", f"must be a 2-D array (dim, atoms), got shape {phi.shape}")
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(phi, axis=0)
    if np.any(norms == 0):
        raise ValidationError("dictionary", "every atom (column) must be non-zero")
    if not np.all(np.isfinite(norms)):
        raise ValidationError("dictionary", "an atom's norm overflows float64; scale the dictionary down")
    x = validate.finite_array("signals", signals)
    x = x[None, :] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] != phi.shape[0]:
        raise ValidationError(
            "signals",
            f"must have shape (dim,) or (n, dim) with dim = {phi.shape[0]} (the dictionary's rows), "
            f"got {np.shape(signals)}",
        )
    lam = validate.non_negative("lambda", lam)
    return phi.astype(np.float64), x.astype(np.float64), lam


def lasso_objective(dictionary, signals, codes, lam: float) -> np.ndarray:
    """``E(a) = 1/2 |x - Phi a|^2 + lam |a|_1`` per signal: ``signals`` (n, dim), ``codes``
    (n, atoms) -> (n,)."""
    phi, x, lam = check_problem(dictionary, signals, lam)
    a = np.atleast_2d(np.asarray(codes, dtype=np.float64))
    residual = x - a @ phi.T
    return 0.5 * np.sum(residual**2, axis=1) + lam * np.sum(np.abs(a), axis=1)


@dataclass(frozen=True, kw_only=True)
class LCA:
    """A spiking LCA for one signal: :meth:`network` builds it, :meth:`codes` reads a result.

    Parameters
    ----------
    dictionary: (dim, atoms) array; atoms need not be unit-norm.
    signal: (dim,) array.
    lam: the LASSO weight lambda, >= 0.
    tau_syn: time constant of the inhibitory synapses (s), > 0.
    max_rate: the largest initial firing rate (Hz), > 0: sets ``kappa`` so that the most
        driven neuron starts at ``max_rate`` before inhibition acts.
    signed: two neurons per atom (signed codes) or one (non-negative codes).
    """

    dictionary: object
    signal: object
    lam: float
    tau_syn: float = 5e-3
    max_rate: float = 200.0
    signed: bool = True

    def __post_init__(self) -> None:
        phi, x, lam = check_problem(self.dictionary, self.signal, self.lam)
        if x.shape[0] != 1:
            raise ValidationError("signal", f"LCA codes one signal of shape (dim,), got {x.shape[0]} signals")
        object.__setattr__(self, "dictionary", phi)
        object.__setattr__(self, "signal", x[0])
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "tau_syn", validate.positive("LCA.tau_syn", self.tau_syn))
        object.__setattr__(self, "max_rate", validate.positive("LCA.max_rate", self.max_rate))
        object.__setattr__(self, "signed", validate.flag("LCA.signed", self.signed))

    # ---- the problem in the neurons' terms -----------------------------------------
    @property
    def norms(self) -> np.ndarray:
        """|Phi_i| per atom, (atoms,)."""
        return np.linalg.norm(self.dictionary, axis=0)

    @property
    def _atoms(self) -> np.ndarray:
        """The neurons' normalised atoms (dim, neurons): [Phi_n, -Phi_n] when signed."""
        normalised = self.dictionary / self.norms
        return np.concatenate([normalised, -normalised], axis=1) if self.signed else normalised

    @property
    def _drive(self) -> np.ndarray:
        """b_i - lambda_i per neuron (code units)."""
        norms = np.tile(self.norms, 2) if self.signed else self.norms
        return self._atoms.T @ self.signal - self.lam / norms

    @property
    def kappa(self) -> float:
        """Code units per hertz (s): the most driven neuron starts at ``max_rate``."""
        peak = float(self._drive.max())
        return peak / self.max_rate if peak > 0 else 1.0 / self.max_rate

    @property
    def size(self) -> int:
        return self._atoms.shape[1]

    def network(self, name: str = "lca"):
        """The :class:`snn.Network`: one IF population ``lca`` with the constant drive, the
        all-to-all inhibition (no self-connections) and a spike probe."""
        from snn import IF, AllToAll, Current, Exponential, Network, Population

        net = Network(name)
        net.add(Population(name=POPULATION, size=self.size,
                           model=IF(capacitance=1.0, v_th=1.0, v_reset=0.0, reset="subtract")))  # fmt: skip
        gram = self._atoms.T @ self._atoms
        np.fill_diagonal(gram, 0.0)  # exactly-zero entries are absent synapses
        # weights (pre, post): G is symmetric, so the orientation does not matter
        net.connect(POPULATION, POPULATION, AllToAll(weights=-gram / self.tau_syn),
                    synapse=Exponential(tau_syn=self.tau_syn), name="inhibition")  # fmt: skip
        net.inject(Current.constant(POPULATION, self._drive / self.kappa))
        net.probe(POPULATION, "spikes")
        return net

    def codes(self, result, start: float, stop: float | None = None) -> np.ndarray:
        """The code (atoms,) from the spikes of ``result`` in [start, stop) seconds:
        ``a_i = kappa r_i / n_i`` (signed: the + neuron's minus the - neuron's)."""
        stop = result.duration if stop is None else stop
        if not 0 <= start < stop <= result.duration + 1e-12:
            raise ValidationError(
                "LCA.codes", f"needs 0 <= start < stop <= {result.duration}, got {start}, {stop}"
            )
        times, ids = result.spikes[POPULATION]
        inside = (times >= start) & (times < stop)
        rates = np.bincount(ids[inside], minlength=self.size) / (stop - start)
        atoms = self.dictionary.shape[1]
        signed_rates = rates[:atoms] - rates[atoms:] if self.signed else rates
        return self.kappa * signed_rates / self.norms

    def convergence(self, result, optimum: float, every: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
        """(checkpoint times (s), relative objective gaps): at each multiple ``t`` of
        ``every`` the code read from the spikes in [t/2, t) (the first half is the transient
        the running estimate forgets) and its gap ``E(a)/optimum - 1`` to the ``optimum``."""
        every = validate.positive("LCA.convergence.every", every)
        optimum = validate.positive("LCA.convergence.optimum", optimum)
        # whole multiples of ``every`` inside the run (no checkpoint past its end)
        times = every * np.arange(1, int(np.floor(result.duration / every + 1e-9)) + 1)
        if times.size == 0:
            raise ValidationError(
                "LCA.convergence.every", f"must be <= the run's {result.duration} s, got {every}"
            )
        gaps = np.array([self.objective(self.codes(result, t / 2, t)) / optimum - 1.0 for t in times])
        return times, gaps

    def time_to_solution(self, result, optimum: float, tolerance: float = 0.01, every: float = 0.01) -> float:
        """The first checkpoint from which the running code's objective stays within
        ``tolerance`` (relative) of ``optimum`` to the end of the run; ``inf`` if none."""
        times, gaps = self.convergence(result, optimum, every)
        outside = np.flatnonzero(np.abs(gaps) > tolerance)
        if outside.size == 0:
            return float(times[0])
        return float(times[outside[-1] + 1]) if outside[-1] + 1 < times.size else float("inf")

    def objective(self, codes) -> float:
        """The LASSO objective of ``codes`` (atoms,) on this problem."""
        return float(lasso_objective(self.dictionary, self.signal, codes, self.lam)[0])
