"""Sparse coding in torch: ISTA and FISTA for the LASSO, LISTA, dictionary learning, PSD and a
sparse auto-encoder. The spiking solver of the same problem is :class:`snn.lca.LCA`."""

from ann_bridge.sparse.learning import PSD, SparseAutoencoder, initial_dictionary, learn_dictionary
from ann_bridge.sparse.lista import LISTA, relative_code_error, train
from ann_bridge.sparse.solvers import Solution, fista, ista, lipschitz, objective, shrink

__all__ = [
    "LISTA", "PSD", "Solution", "SparseAutoencoder", "fista", "initial_dictionary", "ista",
    "learn_dictionary", "lipschitz", "objective", "relative_code_error", "shrink", "train",
]  # fmt: skip
