r"""e-prop (Bellec et al. 2020, Nat. Commun. 11:3625) for :class:`snn.lsnn.LSNN`.

The gradient of the loss ``E`` with respect to a recurrent or input weight is estimated
online as ``sum_t L_j^t ebar_ji^t``: a learning signal per neuron times a per-synapse
eligibility trace filtered by the readout's ``kappa`` (kernels in
:mod:`snn.kernels.lsnn`). With ``W_rec = 0`` and symmetric feedback the estimate is the
exact gradient; with recurrence it drops the paths through other neurons' future spikes.

Losses (summed over steps, averaged over the batch):

* ``"softmax"``: ``-sum_t mask_t sum_k pi*_k log softmax(y_t)_k``, learning signal
  ``L_j = sum_k B_jk mask_t (pi_k - pi*_k)``;
* ``"mse"``: ``sum_t mask_t |y_t - y*_t|^2 / 2``, ``L_j = sum_k B_jk mask_t (y_k - y*_k)``.

Firing-rate regularisation adds ``(reg_rate / 2) sum_j (f_j - target_rate)^2`` with
``f_j`` the neuron's rate (Hz) over the batch; its gradient uses the unfiltered traces.
Feedback ``B`` is ``W_out`` (``"symmetric"``) or a fixed Gaussian matrix (``"random"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.lsnn import LSNN, LSNNWeights, check_inputs

FEEDBACKS = ("symmetric", "random")
LOSSES = ("softmax", "mse")


@dataclass(frozen=True, kw_only=True)
class EProp:
    """Settings of the rule.

    Parameters
    ----------
    feedback: ``"symmetric"`` (B = W_out) or ``"random"`` (fixed Gaussian B).
    gamma: pseudo-derivative dampening (the paper's 0.3).
    reg_rate: firing-rate regularisation strength (per Hz^2), >= 0.
    target_rate: target firing rate (Hz), >= 0.
    """

    feedback: str = "symmetric"
    gamma: float = 0.3
    reg_rate: float = 0.0
    target_rate: float = 10.0

    def __post_init__(self) -> None:
        validate.choice("EProp.feedback", self.feedback, FEEDBACKS)
        object.__setattr__(self, "gamma", validate.positive("EProp.gamma", self.gamma))
        object.__setattr__(self, "reg_rate", validate.non_negative("EProp.reg_rate", self.reg_rate))
        object.__setattr__(self, "target_rate", validate.non_negative("EProp.target_rate", self.target_rate))

    def feedback_matrix(self, weights: LSNNWeights, rng: np.random.Generator | None = None) -> np.ndarray:
        """``B`` (N, n_out): ``W_out`` itself, or a random matrix of the same scale drawn from ``rng``."""
        if self.feedback == "symmetric":
            return np.asarray(weights.w_out)
        if rng is None:
            raise ValidationError("EProp.feedback", "'random' feedback needs a random generator")
        n, n_out = np.shape(weights.w_out)
        return rng.standard_normal((n, n_out)) / np.sqrt(n)


@dataclass
class Gradients:
    """e-prop's estimate for one batch (arrays shaped like the weights, pre x post)."""

    loss: float
    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray
    b_out: np.ndarray
    rates_hz: np.ndarray  # (N,) over the batch
    outputs: np.ndarray  # (batch, T, n_out) readout

    def arrays(self) -> dict[str, np.ndarray]:
        return {"w_in": self.w_in, "w_rec": self.w_rec, "w_out": self.w_out, "b_out": self.b_out}


def check_targets(x: np.ndarray, target, mask, n_out: int, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """``target`` (batch, T, n_out) and ``mask`` (batch, T) in ``x``'s dtype, validated."""
    validate.choice("loss", loss, LOSSES)
    batch, steps = x.shape[:2]
    target = np.ascontiguousarray(target, dtype=x.dtype)
    mask = np.ascontiguousarray(mask, dtype=x.dtype)
    if target.shape != (batch, steps, n_out):
        raise ValidationError("target", f"must have shape {(batch, steps, n_out)}, got {target.shape}")
    if mask.shape != (batch, steps):
        raise ValidationError("mask", f"must have shape {(batch, steps)}, got {mask.shape}")
    if not (np.all(np.isfinite(target)) and np.all(np.isfinite(mask))):
        raise ValidationError("target", "target and mask must be finite")
    return target, mask


def gradients(
    rule: EProp,
    lsnn: LSNN,
    weights: LSNNWeights,
    x: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    loss: str = "softmax",
    feedback: np.ndarray | None = None,
) -> Gradients:
    """Run the batch ``x`` (batch, T, n_in) once with online e-prop; return the loss and the
    estimated gradients (not yet applied). ``feedback``: B for random e-prop (default:
    ``W_out``, symmetric)."""
    from snn.kernels.lsnn import LOSS_MSE, LOSS_SOFTMAX, eprop

    x = check_inputs(lsnn, x)
    target, mask = check_targets(x, target, mask, lsnn.n_out, loss)
    w = weights.astype(x.dtype)
    fb = np.ascontiguousarray(w.w_out if feedback is None else feedback, dtype=x.dtype)
    if fb.shape != w.w_out.shape:
        raise ValidationError("feedback", f"must have shape {w.w_out.shape}, got {fb.shape}")
    c = lsnn.constants(x.dtype)
    kind = LOSS_SOFTMAX if loss == "softmax" else LOSS_MSE
    losses, g_in, g_rec, g_out, g_bias, e_in, e_rec, counts, outputs = eprop(
        x, target, mask, w.w_in, w.w_rec, w.w_out, w.b_out, fb, c["alpha"], c["rho"], c["beta"],
        c["v_th"], rule.gamma, c["ref_steps"], c["kappa"], kind, rule.reg_rate > 0,
    )  # fmt: skip
    batch, steps = x.shape[:2]
    duration = steps * lsnn.dt
    rates = counts.sum(axis=0) / (batch * duration)
    # kernels keep traces post-major (N, n_pre); weights are pre x post
    grad_in = g_in.sum(axis=0).T / batch
    grad_rec = g_rec.sum(axis=0).T / batch
    total = float(losses.sum() / batch)
    if rule.reg_rate > 0:
        excess = rates - rule.target_rate
        scale = rule.reg_rate * excess / (batch * duration)  # d f_j / d z_j^t = 1 / (batch * duration)
        grad_in = grad_in + e_in.sum(axis=0).T * scale[None, :]
        grad_rec = grad_rec + e_rec.sum(axis=0).T * scale[None, :]
        total += 0.5 * rule.reg_rate * float(np.sum(excess**2))
    return Gradients(
        loss=total,
        w_in=grad_in,
        w_rec=grad_rec * weights.mask,
        w_out=g_out.sum(axis=0) / batch,
        b_out=g_bias.sum(axis=0) / batch,
        rates_hz=rates,
        outputs=outputs,
    )


class Adam:
    """Adam (Kingma & Ba 2015) on a dict of numpy arrays; the paper trains e-prop with it.

    ``scales``: per-array multipliers of the learning rate (e.g. ``v_th`` for the spiking
    weights, whose natural unit is the threshold, 1 for the readout).
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        scales: dict[str, float] | None = None,
    ):
        self.learning_rate = validate.positive("Adam.learning_rate", learning_rate)
        self.scales = dict(scales or {})
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.steps = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """New parameter arrays (the inputs are left unchanged)."""
        self.steps += 1
        out = {}
        for name, value in params.items():
            m, v = self.moments.get(name, (np.zeros_like(value), np.zeros_like(value)))
            g = grads[name]
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g * g
            self.moments[name] = (m, v)
            m_hat = m / (1 - self.beta1**self.steps)
            v_hat = v / (1 - self.beta2**self.steps)
            rate = self.learning_rate * self.scales.get(name, 1.0)
            out[name] = value - rate * m_hat / (np.sqrt(v_hat) + self.eps)
        return out
