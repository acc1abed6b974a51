"""Spectral radius of a recurrent weight matrix, dense or sparse.

Large sparse matrices use ARPACK (``scipy.sparse.linalg.eigs``, a few hundred sparse
matrix-vector products) rather than a dense eigen-decomposition, whose O(N^3) time and
O(N^2) memory would dominate building a reservoir of 10^4 units.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

DENSE_LIMIT = 600  # below this many units a dense eigvals is faster than ARPACK


def spectral_radius(matrix, seed: int = 0) -> float:
    """Largest absolute eigenvalue of a square matrix (numpy array or scipy.sparse)."""
    n = matrix.shape[0]
    if n <= DENSE_LIMIT:
        dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
        return float(np.max(np.abs(np.linalg.eigvals(dense))))
    from scipy.sparse.linalg import eigs

    start = np.random.default_rng(seed).standard_normal(n)  # ARPACK's own start vector is not seeded
    values = eigs(
        sp.csr_matrix(matrix), k=1, which="LM", v0=start, maxiter=50 * n, tol=1e-10, return_eigenvectors=False
    )
    return float(np.abs(values[0]))
