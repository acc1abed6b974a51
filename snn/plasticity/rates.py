"""Rate rules (:class:`~snn.plasticity.Oja`, :class:`~snn.plasticity.BCM`) on given rates.

The simulator runs these rules on filtered spike trains; here the same update
(:func:`snn.plasticity.kernels.rate_update`, same order) runs on rates you give, with
linear postsynaptic units, which is where their textbook results hold (Oja: the weight
vector tends to the first principal component of the inputs' second moment; BCM: the
neuron becomes selective to one input pattern) and how ``nengo.Oja`` / ``nengo.BCM`` are
compared (see ``tests/hardware/test_nengo_plasticity.py``).
"""

from __future__ import annotations

import numpy as np

from snn import validate
from snn.errors import ValidationError
from snn.plasticity.rules import BCM, Oja


def learn_on_rates(
    rule: Oja | BCM, weights: np.ndarray, pre_rates: np.ndarray, dt: float, theta: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``rule`` for ``len(pre_rates)`` steps of ``dt`` (s).

    ``weights``: (n_post, n_pre) start; ``pre_rates``: (steps, n_pre), Hz; ``theta``: BCM's
    starting threshold (n_post,), default 0 (pass the one returned to continue a run).
    Returns (final weights, postsynaptic rates (steps, n_post), BCM's final threshold
    (n_post,), zeros for Oja); the inputs are not changed.
    """
    from snn.plasticity.build import rule_parameters
    from snn.plasticity.kernels import learn_on_rates as kernel

    if not isinstance(rule, (Oja, BCM)):
        raise ValidationError("rule", f"must be Oja or BCM, got {type(rule).__name__}")
    dt = validate.positive("dt", dt)
    weights = validate.finite_array("weights", weights).astype(np.float64)
    pre_rates = validate.finite_array("pre_rates", pre_rates).astype(np.float64)
    if weights.ndim != 2 or pre_rates.ndim != 2 or pre_rates.shape[1] != weights.shape[1]:
        raise ValidationError(
            "pre_rates", f"must be (steps, {weights.shape[-1]}) for weights of shape {weights.shape}"
        )
    kind, params = rule_parameters(rule)
    theta = np.zeros(weights.shape[0]) if theta is None else np.array(theta, dtype=np.float64)
    if theta.shape != (weights.shape[0],):
        raise ValidationError("theta", f"must have shape ({weights.shape[0]},), got {theta.shape}")
    post = kernel(kind, params, dt, weights, np.ascontiguousarray(pre_rates), theta)
    return weights, post, theta
