"""NIR's weight-like nodes as sparse linear maps: what one step of spikes becomes on its way
to the next neuron node.

Every node here maps a flat input vector (the row-major flattening of its input shape, as
torch flattens ``(C, H, W)``) to a flat output: ``y = M x + b``. :func:`operator` returns
``(M, b, out_shape)`` for an input shape; :func:`compose` chains them (``Conv2d -> SumPool2d
-> Flatten -> Affine`` between two neuron nodes is one matrix and one bias). Shapes carry
no batch axis.

* ``Linear`` / ``Affine``: ``W`` (``n_out x n_in``), ``b`` for Affine.
* ``Conv1d`` / ``Conv2d``: ``weight (C_out, C_in / groups, k...)``, ``stride``, ``padding``
  (numbers, or ``"valid"`` / ``"same"``), ``dilation``, ``groups``, ``bias (C_out)``
  broadcast over positions; output ``floor((n + 2 p - d (k - 1) - 1) / s) + 1``.
* ``SumPool2d`` / ``AvgPool2d``: per channel, sum (or mean over the ``k_h k_w`` window,
  padding counted as zeros, torch's default) of each window.
* ``Flatten``: the identity (row-major order is kept; both start-dim conventions give it).
* ``Scale``: ``diag(scale)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import nir
import numpy as np
import scipy.sparse

from snn.errors import UnsupportedFeature, ValidationError

OPERATOR_NODES = (
    nir.Linear,
    nir.Affine,
    nir.Conv1d,
    nir.Conv2d,
    nir.SumPool2d,
    nir.AvgPool2d,
    nir.Flatten,
    nir.Scale,
)


def _numbers(value, dims: int, field: str) -> tuple[int, ...]:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    values = np.atleast_1d(np.asarray(value)).astype(np.int64).ravel()
    if values.size == 1:
        values = np.repeat(values, dims)
    if values.size != dims:
        raise ValidationError(field, f"must have {dims} entries, got {values.tolist()}")
    return tuple(int(v) for v in values)


def _array(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _windows(in_spatial, kernel, stride, padding, dilation):
    """Output size per spatial axis, and for every (output position, kernel offset) the input
    position, as index arrays broadcast over ``(out..., kernel...)``."""
    axes = zip(in_spatial, kernel, stride, padding, dilation, strict=True)
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in axes)
    if any(o < 1 for o in out):
        raise ValidationError("kernel_size", f"a kernel of {kernel} does not fit an input of {in_spatial}")
    dims = len(kernel)
    grids = np.meshgrid(*[np.arange(o) for o in out], *[np.arange(k) for k in kernel], indexing="ij")
    positions = [grids[a] * stride[a] - padding[a] + grids[dims + a] * dilation[a] for a in range(dims)]
    return out, grids[:dims], grids[dims:], positions


def _flat(indices, shape) -> np.ndarray:
    return np.ravel_multi_index(tuple(indices), shape)


def _convolution(node, in_shape: tuple[int, ...]):
    weight = _array(node.weight)
    dims = weight.ndim - 2
    c_out, c_per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    if len(in_shape) != dims + 1:
        raise ValidationError(
            "input", f"a {type(node).__name__} needs a (channels, {dims} positions) input, got {in_shape}"
        )
    c_in, spatial = in_shape[0], in_shape[1:]
    groups = int(node.groups)
    if c_in != c_per_group * groups or c_out % groups:
        raise ValidationError(
            "weight", f"{weight.shape} with groups={groups} does not take {c_in} input channels"
        )
    stride = _numbers(node.stride, dims, "stride")
    dilation = _numbers(node.dilation, dims, "dilation")
    if isinstance(node.padding, str):
        if node.padding == "valid":
            padding = (0,) * dims
        elif node.padding == "same" and all(s == 1 for s in stride):
            padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
        else:
            raise UnsupportedFeature(
                f"padding={node.padding!r} with stride {stride}", "nir", "give it in numbers"
            )
    else:
        padding = _numbers(node.padding, dims, "padding")
    out, out_idx, k_idx, positions = _windows(spatial, kernel, stride, padding, dilation)
    inside = np.all([(p >= 0) & (p < n) for p, n in zip(positions, spatial, strict=True)], axis=0)
    rows, cols, values = [], [], []
    per_group = c_out // groups
    for co, ci_local in itertools.product(range(c_out), range(c_per_group)):
        ci = (co // per_group) * c_per_group + ci_local
        rows.append(_flat([np.full_like(out_idx[0], co), *out_idx], (c_out, *out))[inside])
        clipped = [np.clip(p, 0, n - 1) for p, n in zip(positions, spatial, strict=True)]
        cols.append(_flat([np.full_like(positions[0], ci), *clipped], (c_in, *spatial))[inside])
        values.append(weight[(co, ci_local, *k_idx)][inside])
    shape = (c_out, *out)
    matrix = scipy.sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(int(np.prod(shape)), int(np.prod(in_shape))),
    )  # duplicates summed (none here)
    bias = np.repeat(_array(node.bias), int(np.prod(out))) if node.bias is not None else None
    return matrix, bias, shape


def _pool(node, in_shape: tuple[int, ...], average: bool):
    if len(in_shape) != 3:
        raise ValidationError(
            "input", f"a {type(node).__name__} needs a (channels, height, width) input, got {in_shape}"
        )
    kernel = _numbers(node.kernel_size, 2, "kernel_size")
    stride = _numbers(node.stride, 2, "stride")
    padding = _numbers(node.padding, 2, "padding")
    channels, spatial = in_shape[0], in_shape[1:]
    out, out_idx, _, positions = _windows(spatial, kernel, stride, padding, (1, 1))
    inside = (
        (positions[0] >= 0) & (positions[0] < spatial[0]) & (positions[1] >= 0) & (positions[1] < spatial[1])
    )
    rows, cols = [], []
    for c in range(channels):
        rows.append(_flat([np.full_like(out_idx[0], c), *out_idx], (channels, *out))[inside])
        cols.append(_flat([np.full_like(positions[0], c), positions[0].clip(0, spatial[0] - 1),
                           positions[1].clip(0, spatial[1] - 1)], (channels, *spatial))[inside])  # fmt: skip
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    value = 1.0 / (kernel[0] * kernel[1]) if average else 1.0
    shape = (channels, *out)
    matrix = scipy.sparse.csr_matrix((np.full(rows.size, value), (rows, cols)),
                                     shape=(int(np.prod(shape)), int(np.prod(in_shape))))  # fmt: skip
    return matrix, None, shape


def operator(node, in_shape: Sequence[int]):
    """``(M, b, out_shape)`` of a weight-like NIR node for input shape ``in_shape``: ``M``
    sparse ``(n_out, n_in)``, ``b`` ``(n_out,)`` or None."""
    in_shape = tuple(int(n) for n in in_shape)
    n_in = int(np.prod(in_shape))
    if isinstance(node, (nir.Linear, nir.Affine)):
        weight = _array(node.weight)
        if weight.ndim != 2 or weight.shape[1] != n_in:
            raise ValidationError(
                "weight", f"has shape {weight.shape} but its input has {n_in} values ({in_shape})"
            )
        bias = _array(node.bias) if isinstance(node, nir.Affine) and node.bias is not None else None
        return scipy.sparse.csr_matrix(weight), bias, (weight.shape[0],)
    if isinstance(node, (nir.Conv1d, nir.Conv2d)):
        return _convolution(node, in_shape)
    if isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
        return _pool(node, in_shape, isinstance(node, nir.AvgPool2d))
    if isinstance(node, nir.Flatten):
        return scipy.sparse.identity(n_in, format="csr"), None, (n_in,)
    if isinstance(node, nir.Scale):
        scale = np.broadcast_to(
            _array(node.scale).ravel() if _array(node.scale).size > 1 else _array(node.scale), (n_in,)
        )
        return scipy.sparse.diags(scale, format="csr"), None, in_shape
    raise UnsupportedFeature(f"NIR node of type {type(node).__name__}", "nir")


def compose(steps: Sequence[tuple]) -> tuple:
    """One ``(M, b)`` for a chain of ``(M_i, b_i)`` applied in order."""
    matrix, bias = None, None
    for m, b in steps:
        matrix = m if matrix is None else m @ matrix
        bias = m @ bias if bias is not None else None
        if b is not None:
            bias = b if bias is None else bias + b
    return matrix.tocsr(), bias


__all__ = ["OPERATOR_NODES", "compose", "operator"]
