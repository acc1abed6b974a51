"""Trained readouts of reservoir states: ridge regression, RLS / FORCE, softmax.

All map features ``X`` (T, N) to outputs ``Y`` (T, O) as ``Y = X @ weights + bias`` with
``weights`` (N, O) and ``bias`` (O,).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from snn import validate
from snn.errors import ValidationError


def _matrix(name: str, values, columns: int | None = None) -> np.ndarray:
    array = validate.finite_array(name, values)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        want = f"(T, {columns})" if columns is not None else "(T, columns)"
        raise ValidationError(name, f"must have shape {want}, got {np.shape(values)}")
    return np.asarray(array, dtype=np.float64)


ONE_THREAD_GRAM = (256, 2048)  # feature counts for which BLAS runs on one thread (see _blas_threads)
BLOCK_ROWS = 1024  # rows centred and accumulated at a time
_controller = None  # threadpoolctl's view of the loaded BLAS libraries, found once


def _blas_threads(n_features: int):
    """One BLAS thread for mid-sized products: a multi-threaded OpenBLAS pool keeps spinning
    ~0.1 s after each call and takes the cores the next (multi-threaded) reservoir run needs.
    :func:`_gram_upper` instead splits the product between worker threads, each calling BLAS
    on one thread, which leaves nothing spinning. Below the window the products are too small
    to thread; above it BLAS's own threads pay. Without threadpoolctl: unchanged."""
    import contextlib

    global _controller
    low, high = ONE_THREAD_GRAM
    if not low <= n_features <= high:
        return contextlib.nullcontext()
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return contextlib.nullcontext()
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _gram_upper(x: np.ndarray) -> np.ndarray:
    """The upper triangle of ``x^T x`` (N, N) for ``x`` (T, N); the lower triangle may hold
    anything. One BLAS syrk (half the work of a general product) for few features or in BLAS's
    own threads; for a mid-sized N, two worker threads (numpy's products release the GIL):
    one forms the block of the first ``N / sqrt(2)`` columns, the other the rest, the same work."""
    from scipy.linalg.blas import dsyrk

    from snn.workers import Workers, max_workers

    low, high = ONE_THREAD_GRAM
    n = x.shape[1]
    if not low <= n <= high or max_workers() < 2:
        return dsyrk(1.0, x.T, trans=0)  # x.T is a Fortran-ordered view: no copy
    split = int(round(n / np.sqrt(2.0)))
    gram = np.empty((n, n))
    gram[split:, :split] = 0.0  # not computed; zero so that sums of Grams stay finite
    head, tail = x[:, :split], x[:, split:]

    def block(worker: int) -> None:
        if worker == 0:
            gram[:split, :split] = head.T @ head  # numpy computes a^T a by syrk
        else:
            gram[:split, split:] = head.T @ tail
            gram[split:, split:] = tail.T @ tail

    with Workers(2) as workers:
        workers.run(block)
    return gram


class Ridge:
    """Ridge regression, ``min ||X W + b - Y||^2 + ridge ||W||^2`` (the bias is not penalised).

    Fitting accumulates the sufficient statistics ``X^T X``, ``X^T Y`` and the sums with
    :meth:`partial_fit`, so series of any length fit in O(N^2) memory; :meth:`solve` then
    solves the centred normal equations once. :meth:`fit` on one batch of fewer samples than
    features solves the equivalent dual system ``X^T (X X^T + ridge I)^-1 Y`` instead
    (T x T instead of N x N), the same solution at a fraction of the cost.
    """

    def __init__(self, ridge: float = 1e-6, fit_bias: bool = True) -> None:
        self.ridge = validate.non_negative("Ridge.ridge", ridge)
        self.fit_bias = fit_bias
        self.weights: np.ndarray | None = None
        self.bias: np.ndarray | None = None
        self._reset()

    def _reset(self) -> None:
        self._xtx = self._xty = self._x_sum = self._y_sum = None
        self._x_shift = self._y_shift = None
        self._samples = 0

    def partial_fit(self, features, targets) -> Ridge:
        """Add a batch (T, N) / (T, O) to the accumulated statistics."""
        x, y = _rows(features, targets)
        if self._xtx is None:
            n, o = x.shape[1], y.shape[1]
            self._xtx, self._xty = np.zeros((n, n)), np.zeros((n, o))
            self._x_sum, self._y_sum = np.zeros(n), np.zeros(o)
            # statistics are accumulated about the first batch's means: centring X^T X afterwards
            # subtracts two nearly equal large numbers when the features have a large mean,
            # which wipes out the small eigenvalues a weak ridge has to resolve
            fit = self.fit_bias
            self._x_shift = x.mean(axis=0) if fit else np.zeros(n)
            self._y_shift = y.mean(axis=0) if fit else np.zeros(o)
        elif x.shape[1] != self._xtx.shape[0] or y.shape[1] != self._xty.shape[1]:
            raise ValidationError("features", "column counts changed between partial fits")
        with _blas_threads(x.shape[1]):
            for first in range(0, x.shape[0], BLOCK_ROWS):  # centred block by block: no copy of x
                block = x[first : first + BLOCK_ROWS] - self._x_shift
                targets_block = y[first : first + BLOCK_ROWS] - self._y_shift
                self._xtx += _gram_upper(block)
                self._xty += block.T @ targets_block
                self._x_sum += block.sum(axis=0)
                self._y_sum += targets_block.sum(axis=0)
        self._samples += x.shape[0]
        return self

    def solve(self) -> Ridge:
        """Solve the accumulated normal equations; clears the statistics."""
        if self._xtx is None:
            raise ValidationError("Ridge", "nothing to solve: call partial_fit first")
        xtx, xty = self._xtx, self._xty
        x_mean = y_mean = 0.0
        if self.fit_bias:  # means of the shifted data: small, so this correction is accurate
            x_mean, y_mean = self._x_sum / self._samples, self._y_sum / self._samples
            xtx = xtx - self._samples * np.outer(x_mean, x_mean)
            xty = xty - self._samples * np.outer(x_mean, y_mean)
        xtx[np.diag_indices_from(xtx)] += self.ridge
        with _blas_threads(xtx.shape[0]):
            if self.ridge > 0:  # positive definite: Cholesky on the upper triangle, all that is kept
                factor = scipy.linalg.cho_factor(xtx, lower=False, check_finite=False)
                self.weights = scipy.linalg.cho_solve(factor, xty, check_finite=False)
            else:
                full = np.triu(xtx) + np.triu(xtx, 1).T
                self.weights = scipy.linalg.solve(full, xty, assume_a="sym")
        if self.fit_bias:
            self.bias = (self._y_shift + y_mean) - (self._x_shift + x_mean) @ self.weights
        else:
            self.bias = np.zeros(xty.shape[1])
        self._reset()
        return self

    def fit(self, features, targets) -> Ridge:
        """Fit on one batch (T, N) / (T, O); the dual form when T < N and ridge > 0."""
        x, y = _rows(features, targets)
        if x.shape[0] >= x.shape[1] or self.ridge == 0.0:
            self._reset()
            return self.partial_fit(x, y).solve()
        x_mean = x.mean(axis=0) if self.fit_bias else np.zeros(x.shape[1])
        y_mean = y.mean(axis=0) if self.fit_bias else np.zeros(y.shape[1])
        xc, yc = x - x_mean, y - y_mean
        with _blas_threads(x.shape[0]):
            gram = _gram_upper(xc.T)
            gram[np.diag_indices_from(gram)] += self.ridge
            factor = scipy.linalg.cho_factor(gram, lower=False, check_finite=False)
            self.weights = xc.T @ scipy.linalg.cho_solve(factor, yc, check_finite=False)
        self.bias = y_mean - x_mean @ self.weights
        return self

    def predict(self, features) -> np.ndarray:
        """Outputs (T, O) for features (T, N)."""
        if self.weights is None:
            raise ValidationError("Ridge", "predict before fit")
        return _matrix("features", features, self.weights.shape[0]) @ self.weights + self.bias


def _rows(features, targets) -> tuple[np.ndarray, np.ndarray]:
    """Features (T, N) and targets (T, O) as float64 matrices with the same number of rows."""
    x = _matrix("features", features)
    y = _matrix("targets", targets)
    if x.shape[0] != y.shape[0]:
        raise ValidationError(
            "targets", f"must have {x.shape[0]} rows (one per feature row), got {y.shape[0]}"
        )
    return x, y


class RLS:
    """Recursive least squares (the readout rule of FORCE learning, Sussillo & Abbott 2009).

    Per sample: ``k = P x / (forgetting + x^T P x)``, ``W += k e^T`` with ``e = y - W^T x``,
    ``P <- (P - k x^T P) / forgetting``, from ``P = I / regularization``. With
    ``forgetting = 1`` the weights after T samples are exactly the ridge solution with
    ``ridge = regularization`` (no bias; append a constant feature for one).
    """

    def __init__(self, n_features: int, n_outputs: int, regularization: float = 1.0, forgetting: float = 1.0):
        n_features = validate.count("RLS.n_features", n_features)
        n_outputs = validate.count("RLS.n_outputs", n_outputs)
        regularization = validate.positive("RLS.regularization", regularization)
        forgetting = validate.finite("RLS.forgetting", forgetting)
        if not 0.0 < forgetting <= 1.0:
            raise ValidationError("RLS.forgetting", f"must be in (0, 1], got {forgetting}")
        self.forgetting = forgetting
        self.inverse = np.eye(n_features) / regularization  # P, the running inverse correlation
        self.weights = np.zeros((n_features, n_outputs))
        self.bias = np.zeros(n_outputs)

    def update(self, features, targets) -> np.ndarray:
        """Learn from each row in turn; returns the errors (T, O) before each update."""
        x = _matrix("features", features, self.weights.shape[0])
        y = _matrix("targets", targets, self.weights.shape[1])
        errors = np.empty_like(y)
        p = self.inverse
        for t in range(x.shape[0]):
            row = x[t]
            p_x = p @ row
            gain = p_x / (self.forgetting + row @ p_x)
            errors[t] = y[t] - row @ self.weights
            self.weights += np.outer(gain, errors[t])
            p -= np.outer(gain, p_x)
            if self.forgetting != 1.0:
                p /= self.forgetting
        return errors

    def predict(self, features) -> np.ndarray:
        return _matrix("features", features, self.weights.shape[0]) @ self.weights


class Softmax:
    """Multinomial logistic regression with an L2 penalty ``l2/2 ||W||^2``, fitted by L-BFGS
    on standardised features; the standardisation is folded into ``weights`` and ``bias``
    afterwards, so :meth:`predict` takes raw features."""

    def __init__(self, l2: float = 1e-3, max_iterations: int = 500) -> None:
        self.l2 = validate.non_negative("Softmax.l2", l2)
        self.max_iterations = validate.count("Softmax.max_iterations", max_iterations)
        self.weights: np.ndarray | None = None
        self.bias: np.ndarray | None = None

    def fit(self, features, labels) -> Softmax:
        from scipy.optimize import minimize

        x = _matrix("features", features)
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu" or labels.min(initial=0) < 0:
            raise ValidationError("labels", f"must be {x.shape[0]} non-negative integer class labels")
        classes = int(labels.max()) + 1
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-12  # + 1e-12: constant features
        z = (x - mean) / scale
        onehot = np.eye(classes)[labels]
        n, d = z.shape

        def loss(flat):
            w, b = flat[: d * classes].reshape(d, classes), flat[d * classes :]
            logits = z @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            grad_logits = (np.exp(log_p) - onehot) / n
            value = -(onehot * log_p).sum() / n + 0.5 * self.l2 * (w * w).sum()
            grad = np.concatenate([(z.T @ grad_logits + self.l2 * w).ravel(), grad_logits.sum(axis=0)])
            return value, grad

        start = np.zeros(d * classes + classes)
        result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": self.max_iterations})
        w = result.x[: d * classes].reshape(d, classes)
        self.weights = w / scale[:, None]
        self.bias = result.x[d * classes :] - (mean / scale) @ w
        return self

    def predict_proba(self, features) -> np.ndarray:
        if self.weights is None:
            raise ValidationError("Softmax", "predict before fit")
        logits = _matrix("features", features, self.weights.shape[0]) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, features) -> np.ndarray:
        """The most likely class per row."""
        return np.argmax(self.predict_proba(features), axis=1)
