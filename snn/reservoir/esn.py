r"""Echo state networks: a fixed random recurrent layer of leaky tanh units.

State update, for input ``u[t]`` (I,), previous output ``y[t-1]`` (O,) and state ``x`` (N,)::

    x[t] = (1 - leak) x[t-1] + leak * f(W x[t-1] + W_in u[t] + b + W_fb y[t-1])

with ``f = tanh`` (or the identity for linear reservoirs). ``W`` is sparse with
``round(connectivity N^2)`` entries at random places, drawn from a standard normal and scaled so that
its spectral radius is ``spectral_radius`` (computed with ARPACK for large ``N``; see
:mod:`snn.reservoir.spectral`), or a random orthogonal matrix times ``spectral_radius``
(``recurrent="orthogonal"``, dense). ``W_in`` has ``round(input_connectivity N I)`` entries
(at least one) at random places, each ``+-input_scaling`` (random signs); ``b`` is uniform in
``[-bias_scaling, bias_scaling]``; ``W_fb`` uniform in ``[-feedback_scaling, feedback_scaling]``.
Only a readout (:mod:`snn.reservoir.readouts`) learns.

>>> import numpy as np
>>> from snn.reservoir import ESN
>>> esn = ESN(units=50, spectral_radius=0.9, leak=0.5)
>>> weights = esn.initial_weights(n_inputs=1, seed=0)
>>> esn.run(weights, np.zeros((10, 1))).shape
(10, 50)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from snn import validate
from snn.errors import ValidationError
from snn.reservoir.spectral import spectral_radius as measure_radius
from snn.workers import WorkerChoice, Workers, even_split, max_workers

ACTIVATIONS = ("tanh", "identity")
RECURRENT = ("normal", "orthogonal")
DTYPES = {"float64": np.float64, "float32": np.float32}
PARALLEL_ROWS_MIN_SYNAPSES = 50_000  # below this, per-step thread synchronisation costs more than it saves
CONTENTION_CHECK_STEPS = 500  # a multi-threaded run checks this often whether one worker would be faster
TRIAL_STEPS = 50  # steps of a trial block on the other choice (see snn.workers.WorkerChoice)


def _csr_index(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """CSR row pointers as int64 and column indices as uint32, the types the kernels gather with."""
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.uint32)


@dataclass(frozen=True)
class ESNWeights:
    """The fixed weights of one reservoir.

    w: (N, N) scipy.sparse CSR, rows = receiving units. w_in: (N, I). bias: (N,).
    w_fb: (N, O) feedback from the readout's output, O = 0 when there is none.
    """

    w: sp.csr_matrix
    w_in: np.ndarray
    bias: np.ndarray
    w_fb: np.ndarray

    @property
    def units(self) -> int:
        return self.w.shape[0]


@dataclass(frozen=True, kw_only=True)
class ESN:
    """Echo state network hyperparameters (see the module docstring for the equations).

    units: N >= 1. spectral_radius: > 0. leak: in (0, 1]. input_scaling, bias_scaling,
    feedback_scaling: >= 0 (feedback 0 = none). connectivity, input_connectivity: in (0, 1].
    activation: ``"tanh"`` or ``"identity"``. recurrent: ``"normal"`` (sparse) or
    ``"orthogonal"`` (dense). dtype: ``"float64"`` or ``"float32"`` for weights and states.
    """

    units: int = 100
    spectral_radius: float = 1.25
    leak: float = 0.3
    input_scaling: float = 1.0
    bias_scaling: float = 0.0
    feedback_scaling: float = 0.0
    connectivity: float = 0.1
    input_connectivity: float = 0.1
    activation: Literal["tanh", "identity"] = "tanh"
    recurrent: Literal["normal", "orthogonal"] = "normal"
    dtype: Literal["float64", "float32"] = "float64"

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", validate.count("ESN.units", self.units))
        object.__setattr__(
            self, "spectral_radius", validate.positive("ESN.spectral_radius", self.spectral_radius)
        )
        leak = validate.finite("ESN.leak", self.leak)
        if not 0.0 < leak <= 1.0:
            raise ValidationError("ESN.leak", f"must be in (0, 1], got {leak}")
        object.__setattr__(self, "leak", leak)
        for name in ("input_scaling", "bias_scaling", "feedback_scaling"):
            object.__setattr__(self, name, validate.non_negative(f"ESN.{name}", getattr(self, name)))
        for name in ("connectivity", "input_connectivity"):
            value = validate.probability(f"ESN.{name}", getattr(self, name))
            if value == 0.0:
                raise ValidationError(f"ESN.{name}", "must be in (0, 1], got 0")
            object.__setattr__(self, name, value)
        for name, allowed in (
            ("activation", ACTIVATIONS),
            ("recurrent", RECURRENT),
            ("dtype", tuple(DTYPES)),
        ):
            if getattr(self, name) not in allowed:
                raise ValidationError(f"ESN.{name}", f"must be one of {allowed}, got {getattr(self, name)!r}")

    def with_(self, **changes) -> ESN:
        """A copy with some hyperparameters changed (validated again)."""
        return replace(self, **changes)

    # ---- weights -----------------------------------------------------------------
    def _check_memory(self, n_columns: int) -> None:
        """Refuse (ResourceLimit) reservoirs whose weights cannot be drawn in memory.

        scipy's ``sparse.random`` draws the positions of W without replacement from all
        ``units**2`` places (8 bytes each) and keeps 3 arrays per non-zero; the orthogonal
        reservoir is a dense QR (about 3 ``units x units`` float64 matrices).
        """
        from snn import resources

        places = float(self.units) ** 2
        if self.recurrent == "orthogonal":
            needed = 3 * 8 * places
        else:
            needed = max(8 * places, 3 * 16 * self.connectivity * places)
        needed += 16 * self.units * max(n_columns, 1) + 8 * self.units
        resources.require(needed, f"the weights of a {self.units}-unit ESN", field="ESN.units")

    def initial_weights(self, n_inputs: int, n_feedback: int = 0, seed: int = 0) -> ESNWeights:
        """Draw W, W_in, b and W_fb from independent child streams of ``seed``."""
        n_inputs = validate.count("ESN.n_inputs", n_inputs)
        n_feedback = validate.count("ESN.n_feedback", n_feedback, low=0)
        dtype = DTYPES[self.dtype]
        w_rng, in_rng, bias_rng, fb_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
        )
        n = self.units
        self._check_memory(n_inputs + n_feedback)
        if self.recurrent == "orthogonal":
            q, r = np.linalg.qr(w_rng.standard_normal((n, n)))
            w = sp.csr_matrix(q * np.sign(np.diag(r)) * self.spectral_radius)  # Haar-distributed
        else:
            w = sp.random(
                n,
                n,
                density=self.connectivity,
                format="csr",
                random_state=w_rng,
                data_rvs=w_rng.standard_normal,
            )
            radius = measure_radius(w, seed=seed)
            if radius == 0.0:
                raise ValidationError(
                    "ESN.connectivity", f"{self.connectivity} leaves W of {n} units with no cycle (radius 0)"
                )
            w = w * (self.spectral_radius / radius)
        # exactly round(p N I) input synapses (at least one), as for W: a binomial count would add
        # needless run-to-run variance to a reservoir whose only input is a handful of units
        count = max(1, int(round(self.input_connectivity * n * n_inputs)))
        w_in = np.zeros(n * n_inputs)
        w_in[in_rng.choice(n * n_inputs, size=count, replace=False)] = in_rng.choice([-1.0, 1.0], size=count)
        w_in = w_in.reshape(n, n_inputs) * self.input_scaling
        bias = bias_rng.uniform(-self.bias_scaling, self.bias_scaling, n)
        w_fb = fb_rng.uniform(-self.feedback_scaling, self.feedback_scaling, (n, n_feedback))
        w = sp.csr_matrix(w, dtype=dtype)
        w.sort_indices()
        return ESNWeights(w=w, w_in=w_in.astype(dtype), bias=bias.astype(dtype), w_fb=w_fb.astype(dtype))

    # ---- running -----------------------------------------------------------------
    def run(self, weights: ESNWeights, inputs, feedback=None, initial_state=None) -> np.ndarray:
        """Reservoir states for ``inputs``.

        inputs: (T, I) one series, or (B, T, I) a batch of independent series.
        feedback: the teacher outputs ``y`` (same leading shape, O columns), shifted inside
        so that step t sees ``y[t-1]`` (zero at t = 0); required when W_fb has columns.
        initial_state: (N,) or (B, N); zeros by default.
        Returns (T, N) or (B, T, N) in the ESN's dtype.
        """
        from snn.kernels import reservoir as kernels

        dtype = DTYPES[self.dtype]
        series = self._batch("inputs", inputs, weights.w_in.shape[1])
        batch, steps, _ = series.shape
        n_feedback = weights.w_fb.shape[1]
        if n_feedback:
            if feedback is None:
                raise ValidationError("feedback", f"the reservoir has {n_feedback} feedback columns; pass y")
            teacher = self._batch("feedback", feedback, n_feedback)
            if teacher.shape[:2] != (batch, steps):
                raise ValidationError("feedback", f"must cover the same {steps} steps as inputs")
            shifted = np.zeros_like(teacher)
            shifted[:, 1:] = teacher[:, :-1]
        else:
            shifted = np.zeros((batch, steps, 0))
        x0 = np.zeros((batch, weights.units))
        if initial_state is not None:
            start = validate.finite_array("initial_state", initial_state)
            if start.shape not in ((weights.units,), (batch, weights.units)):
                raise ValidationError(
                    "initial_state", f"must have shape ({weights.units},) or ({batch}, {weights.units})"
                )
            x0[:] = start
        states = np.empty((batch, steps, weights.units), dtype=dtype)
        series, shifted, x0 = series.astype(dtype), shifted.astype(dtype), x0.astype(dtype)
        arguments = (*self._kernel_weights(weights), series, shifted, x0)
        workers = max_workers() if weights.w.nnz >= PARALLEL_ROWS_MIN_SYNAPSES else 1
        if batch > 1:
            kernels.run_batch(*arguments, states)
        elif workers == 1:
            kernels.run_single(*arguments, states)
        else:
            self._run_shared(workers, arguments, states)
        return states[0] if np.ndim(inputs) == 2 else states

    @staticmethod
    def _run_shared(workers: int, arguments: tuple, states: np.ndarray) -> None:
        """One series on ``workers`` threads, ``CONTENTION_CHECK_STEPS`` steps at a time; when
        one worker turns out faster (cores busy elsewhere, see :class:`snn.workers.WorkerChoice`),
        the rest on one (the same states, bit for bit)."""
        from snn.kernels import reservoir as kernels

        *weights, series, shifted, x0 = arguments
        row_split = even_split(states.shape[2], workers)
        first, total = 0, series.shape[1]
        with Workers(workers) as pool:
            choice = WorkerChoice(pool, CONTENTION_CHECK_STEPS, trial=TRIAL_STEPS)
            while first < total:
                count, steps = choice.plan(total - first)
                part = slice(first, first + steps)
                start = x0 if first == 0 else states[:, first - 1]
                chunk = (*weights, series[:, part], shifted[:, part], start, states[:, part])
                started = time.perf_counter()
                if count == 1:
                    kernels.run_single(*chunk)
                else:
                    pool.run(lambda w, chunk=chunk: kernels.run_share(w, row_split, pool.sync, *chunk))
                choice.record(steps, time.perf_counter() - started)
                first += steps

    def generate(self, weights: ESNWeights, readout, steps: int, last_state, last_output) -> tuple:
        """Free-running prediction for ``steps`` steps: the readout's output feeds back as the
        next input (the readout must map N states to I = O outputs). ``last_state`` (N,) and
        ``last_output`` (O,) are where teacher forcing ended. Returns (states (T, N), outputs (T, O))."""
        from snn.kernels import reservoir as kernels

        steps = validate.count("steps", steps)
        dtype = DTYPES[self.dtype]
        w_out, b_out = readout.weights.T.astype(dtype), readout.bias.astype(dtype)
        n_outputs = weights.w_in.shape[1]
        if w_out.shape != (n_outputs, weights.units):
            raise ValidationError("readout", "must map the N states onto the reservoir's I inputs")
        if weights.w_fb.shape[1] not in (0, n_outputs):
            raise ValidationError(
                "weights.w_fb", f"must have 0 or {n_outputs} columns (the outputs fed back)"
            )
        last_state = validate.finite_array("last_state", last_state, shape=(weights.units,))
        last_output = validate.finite_array("last_output", last_output, shape=(n_outputs,))
        states = np.empty((steps, weights.units), dtype=dtype)
        outputs = np.empty((steps, w_out.shape[0]), dtype=dtype)
        kernels.generate(
            *self._kernel_weights(weights),
            w_out,
            b_out,
            np.asarray(last_state, dtype=dtype),
            np.asarray(last_output, dtype=dtype),
            states,
            outputs,
        )
        return states, outputs

    def _kernel_weights(self, weights: ESNWeights) -> tuple:
        """The kernels' leading arguments: W as CSR (int64 row pointers, uint32 columns, values),
        W_in, b, W_fb, the leak in the ESN's dtype and the activation code."""
        from snn.kernels import reservoir as kernels

        indptr, indices = _csr_index(weights.w)
        activation = kernels.TANH if self.activation == "tanh" else kernels.IDENTITY
        leak = DTYPES[self.dtype](self.leak)
        return indptr, indices, weights.w.data, weights.w_in, weights.bias, weights.w_fb, leak, activation

    @staticmethod
    def _batch(name: str, values, columns: int) -> np.ndarray:
        array = validate.finite_array(name, values)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3 or array.shape[2] != columns:
            raise ValidationError(
                name, f"must have shape (T, {columns}) or (B, T, {columns}), got {np.shape(values)}"
            )
        if array.shape[1] == 0:
            raise ValidationError(name, "must hold at least one step")
        return np.ascontiguousarray(array)
