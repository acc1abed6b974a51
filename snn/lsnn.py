r"""Long short-term memory spiking networks (LSNN; Bellec et al. 2018, NeurIPS).

A recurrent population of ``n_lif`` LIF then ``n_alif`` ALIF neurons (in that order),
driven by ``n_in`` input channels, read out by ``n_out`` leaky integrators. Discrete time
with step ``dt``, ``alpha = exp(-dt / tau_mem)``, ``rho = exp(-dt / tau_adapt)``,
``kappa = exp(-dt / tau_out)``; the update is written out in :mod:`snn.kernels.lsnn`.

Conventions, chosen so an LSNN is exactly an :class:`snn.Network` of LIF / ALIF / LI
populations with delta synapses and runs unchanged on :class:`snn.Simulator`:

* adaptation in Bellec et al.'s (2020) *normalised* form ``b <- rho b + (1 - rho) z``,
  threshold ``A = v_th + beta b`` (the paper's ``beta = 1.8`` goes with ``v_th = 0.01``);
* reset by subtracting ``v_th`` at the spike, so the next step starts from
  ``alpha (v - v_th)``; the paper subtracts ``v_th`` after the decay. The two differ by the
  factor ``alpha`` on the reset term only; e-prop excludes the reset from the gradient
  either way;
* input and recurrent spikes of step ``t`` land on the membrane at the end of step ``t``
  and leak with it, so step ``t + 1`` sees ``alpha (z_t W_rec + x_t W_in)``: the paper's
  equation with the weights scaled by ``alpha``;
* refractory neurons hold ``v`` and lose their input (the simulator's rule);
* no self-connections; ``p_rec < 1`` keeps a fixed random subset of recurrent synapses.

The readout ``y_t = kappa y_{t-1} + z_t W_out + b_out`` sees the spikes of its own step
(the paper's form); the exported LI population (weights ``W_out / kappa``) lags it by
exactly one step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from snn import validate
from snn.errors import UnsupportedFeature, ValidationError


@dataclass(frozen=True, kw_only=True)
class LSNN:
    """Sizes and neuron constants of an LSNN (SI units; potentials dimensionless).

    Parameters
    ----------
    n_in, n_lif, n_alif, n_out: input channels, LIF and ALIF neurons, readout units.
    dt: time step (s).
    tau_mem: membrane time constant of every recurrent neuron (s).
    tau_adapt: adaptation time constant of the ALIF neurons (s).
    beta: threshold increase per unit of ``b`` (same unit as ``v_th``), >= 0.
    v_th: threshold (resting potential 0; reset subtracts ``v_th``), > 0.
    tau_ref: refractory period (s), >= 0.
    tau_out: readout time constant (s).
    p_rec: probability of each recurrent synapse existing (fixed at initialisation).
    """

    n_in: int
    n_lif: int
    n_alif: int
    n_out: int
    dt: float = 1e-3
    tau_mem: float = 20e-3
    tau_adapt: float = 2.0
    beta: float = 1.8
    v_th: float = 0.01
    tau_ref: float = 5e-3
    tau_out: float = 20e-3
    p_rec: float = 1.0

    def __post_init__(self) -> None:
        for name in ("n_in", "n_out"):
            object.__setattr__(self, name, validate.count(f"LSNN.{name}", getattr(self, name)))
        for name in ("n_lif", "n_alif"):
            object.__setattr__(self, name, validate.count(f"LSNN.{name}", getattr(self, name), low=0))
        if self.n_lif + self.n_alif == 0:
            raise ValidationError("LSNN.n_lif", "n_lif + n_alif must be >= 1")
        for name in ("dt", "tau_mem", "tau_adapt", "v_th", "tau_out"):
            object.__setattr__(self, name, validate.positive(f"LSNN.{name}", getattr(self, name)))
        object.__setattr__(self, "beta", validate.non_negative("LSNN.beta", self.beta))
        object.__setattr__(self, "tau_ref", validate.non_negative("LSNN.tau_ref", self.tau_ref))
        object.__setattr__(self, "p_rec", validate.probability("LSNN.p_rec", self.p_rec))

    @property
    def n_rec(self) -> int:
        """Recurrent neurons (LIF then ALIF)."""
        return self.n_lif + self.n_alif

    def constants(self, dtype=np.float64) -> dict:
        """Per-neuron arrays and scalars the kernels take: alpha, rho, beta (N,), v_th,
        ref_steps, kappa, and the readout's ``drive_gain`` (V per A). Taken from the
        simulator's builder (:func:`snn.build.neurons.discrete_parameters`) so the kernels
        and an exported network integrate the same numbers."""
        from snn.build.neurons import discrete_parameters

        models = self.neuron_models()
        lif, alif = (discrete_parameters(models[g], self.dt) for g in ("lif", "alif"))
        readout = discrete_parameters(models["readout"], self.dt)
        adaptive = np.arange(self.n_rec) >= self.n_lif
        return {
            "alpha": np.full(self.n_rec, lif["alpha"], dtype=dtype),
            "rho": np.where(adaptive, alif["rho"], lif["rho"]).astype(dtype),
            "beta": np.where(adaptive, alif["beta"], lif["beta"]).astype(dtype),
            "v_th": float(self.v_th),
            "ref_steps": int(lif["ref_steps"]),
            "kappa": float(readout["alpha"]),
            "readout_drive_gain": float(readout["drive_gain"]),
        }

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def neuron_models(self) -> dict:
        """The ``snn`` models of the three groups: ``lif``, ``alif`` and ``readout`` (LI)."""
        from snn.neurons import ALIF, LI, LIF

        common = dict(tau_mem=self.tau_mem, v_rest=0.0, v_reset=0.0, v_th=self.v_th, tau_ref=self.tau_ref,
                      reset="subtract")  # fmt: skip
        return {
            "lif": LIF(**common),
            "alif": ALIF(**common, tau_adapt=self.tau_adapt, beta=self.beta),
            "readout": LI(tau_mem=self.tau_out, v_rest=0.0),
        }

    def groups(self) -> dict[str, slice]:
        """Index ranges of the non-empty recurrent groups, ``lif`` then ``alif``."""
        ranges = {"lif": slice(0, self.n_lif), "alif": slice(self.n_lif, self.n_rec)}
        return {name: r for name, r in ranges.items() if r.stop > r.start}


@dataclass(frozen=True, kw_only=True, eq=False)
class LSNNWeights:
    """Trainable arrays, stored pre x post: ``w_in`` (n_in, N), ``w_rec`` (N, N), ``w_out``
    (N, n_out), ``b_out`` (n_out,), and the fixed recurrent ``mask`` (N, N) of synapses that
    exist (never the diagonal). ``w_rec`` is zero wherever the mask is."""

    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray
    b_out: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        n_in, n = np.shape(self.w_in)
        expected = {"w_rec": (n, n), "w_out": (n, np.shape(self.w_out)[-1]), "mask": (n, n)}
        for name, shape in expected.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValidationError(f"LSNNWeights.{name}", f"must have shape {shape}")
        for name in ("w_in", "w_rec", "w_out", "b_out"):
            validate.finite_array(f"LSNNWeights.{name}", getattr(self, name))
        if np.diagonal(self.mask).any():
            raise ValidationError("LSNNWeights.mask", "must be False on the diagonal (no self-connections)")
        if np.any(np.asarray(self.w_rec)[~np.asarray(self.mask, bool)] != 0):
            raise ValidationError("LSNNWeights.w_rec", "must be 0 where mask is False")

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ("w_in", "w_rec", "w_out", "b_out")}

    def replace(self, **arrays: np.ndarray) -> LSNNWeights:
        values = {**self.arrays(), "mask": self.mask, **arrays}
        values["w_rec"] = values["w_rec"] * self.mask
        return LSNNWeights(**values)

    def astype(self, dtype) -> LSNNWeights:
        return LSNNWeights(**{k: np.ascontiguousarray(v, dtype=dtype) for k, v in self.arrays().items()},
                           mask=self.mask)  # fmt: skip


def initial_weights(
    lsnn: LSNN, rng: np.random.Generator, input_gain: float = 1.0, recurrent_gain: float = 1.0
) -> LSNNWeights:
    """Gaussian weights with standard deviations ``gain * v_th / sqrt(fan_in)`` (in and
    recurrent), ``1 / sqrt(N)`` for the readout; zero readout bias."""
    n = lsnn.n_rec
    mask = rng.random((n, n)) < lsnn.p_rec
    np.fill_diagonal(mask, False)
    fan_rec = max(1.0, lsnn.p_rec * (n - 1))
    w_in = rng.standard_normal((lsnn.n_in, n)) * input_gain * lsnn.v_th / np.sqrt(lsnn.n_in)
    w_rec = rng.standard_normal((n, n)) * recurrent_gain * lsnn.v_th / np.sqrt(fan_rec) * mask
    w_out = rng.standard_normal((n, lsnn.n_out)) / np.sqrt(n)
    return LSNNWeights(w_in=w_in, w_rec=w_rec, w_out=w_out, b_out=np.zeros(lsnn.n_out), mask=mask)


def check_inputs(lsnn: LSNN, x: np.ndarray, field: str = "x") -> np.ndarray:
    """``x`` as a C-contiguous float array ``(batch, T, n_in)``, finite."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[2] != lsnn.n_in:
        raise ValidationError(field, f"must have shape (batch, T, {lsnn.n_in}), got {np.shape(x)}")
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValidationError(field, "must be finite (no NaN or infinity)")
    return np.ascontiguousarray(x)


def run(lsnn: LSNN, weights: LSNNWeights, x: np.ndarray) -> dict[str, np.ndarray]:
    """Forward pass on the Numba kernel: ``{"spikes": (batch, T, N), "y": (batch, T, n_out),
    "v": (batch, T, N)}`` in the dtype of ``x`` (float64 unless x is float32)."""
    from snn.kernels.lsnn import forward

    x = check_inputs(lsnn, x)
    w = weights.astype(x.dtype)
    c = lsnn.constants(x.dtype)
    spikes, y, v = forward(x, w.w_in, w.w_rec, w.w_out, w.b_out, c["alpha"], c["rho"], c["beta"],
                           c["v_th"], c["ref_steps"], c["kappa"])  # fmt: skip
    return {"spikes": spikes, "y": y, "v": v}


def to_network(lsnn: LSNN, weights: LSNNWeights, x: np.ndarray | None = None, name: str = "lsnn"):
    """The LSNN as an :class:`snn.Network`: populations ``lif``, ``alif`` (when non-empty)
    and ``readout`` (LI), source ``input`` replaying ``x`` (T, n_in) of 0/1 spikes when given
    (spike at row ``t`` emitted at ``t * dt``), dense projections with delta synapses, and
    probes of every spike and of the readout's ``v``.

    The readout LI's ``v`` at step ``t + 1`` equals the LSNN's ``y_t``: the bias enters as
    a constant current and the initial value cancels the first step's bias.
    """
    from snn.connectivity import AllToAll, Sparse
    from snn.inputs import Current, SpikeSource
    from snn.network import Network, Population
    from snn.synapses import Delta

    net = Network(name)
    models = lsnn.neuron_models()
    groups = lsnn.groups()
    present = list(groups)
    for group in present:
        size = groups[group].stop - groups[group].start
        net.add(Population(name=group, size=size, model=models[group]))
        net.probe(group)
    constants = lsnn.constants()
    kappa = constants["kappa"]
    net.add(Population(name="readout", size=lsnn.n_out, model=models["readout"],
                       initial_v=-np.asarray(weights.b_out, float) / kappa))  # fmt: skip
    if np.any(weights.b_out != 0):
        bias_current = np.asarray(weights.b_out, float) / constants["readout_drive_gain"]
        net.inject(Current.constant("readout", bias_current))
    net.probe("readout", variable="v")
    if x is not None:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != lsnn.n_in:
            raise ValidationError("x", f"must have shape (T, {lsnn.n_in}), got {x.shape}")
        if not np.all((x == 0) | (x == 1)):
            raise UnsupportedFeature("analog (non 0/1) LSNN input", "snn.Network", "encode it as spikes")
        steps, ids = np.nonzero(x)
        net.add(SpikeSource(name="input", size=lsnn.n_in, times=steps * lsnn.dt, ids=ids))
        for group in present:
            net.connect("input", group, AllToAll(weights=np.asarray(weights.w_in)[:, groups[group]]))
    for pre in present:
        for post in present:
            block = np.asarray(weights.w_rec)[groups[pre], groups[post]]
            exists = np.asarray(weights.mask)[groups[pre], groups[post]]
            pre_ids, post_ids = np.nonzero(exists)
            if pre_ids.size:
                net.connect(pre, post, Sparse(pre=pre_ids, post=post_ids, weights=block[pre_ids, post_ids]))
        readout_weights = np.asarray(weights.w_out)[groups[pre]] / kappa
        net.connect(pre, "readout", AllToAll(weights=readout_weights), synapse=Delta())
    return net
