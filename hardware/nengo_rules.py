"""Rate rules on nengo: :class:`snn.plasticity.Oja` -> ``nengo.Oja``, :class:`~snn.plasticity.BCM`
-> ``nengo.BCM``, where the semantics match.

Both sides update ``w`` every step from filtered activities (Hz): nengo's
``pre_synapse = Lowpass(tau_rate)`` on spikes of height 1/dt is our rate trace, one step
later (nengo's synapses delay by a step). A transform is ``scale`` x our weight
(:func:`hardware.nengo.transform_scale`), so the rates carry over as
``learning_rate_nengo = scale x learning_rate`` and Oja's ``beta_nengo = beta / scale``.
What has no nengo form is refused: BCM with ``threshold="squared"`` (nengo's theta filters
``y``, not ``y^2``), finite weight bounds (nengo does not clip), and a spike source as the
presynaptic side (nengo's rules read presynaptic neurons).
"""

from __future__ import annotations

import math

import numpy as np

from snn.errors import UnsupportedFeature
from snn.plasticity import BCM, Oja

RULES_RUN = ("Oja", "BCM")


def check_rule(projection, pre_is_population: bool, backend: str) -> None:
    """Refuse what :func:`learning_rule` cannot express, naming the projection."""
    rule = projection.plasticity
    name = f"{type(rule).__name__} on projection {projection.name!r}"
    if not pre_is_population:
        raise UnsupportedFeature(
            f"{name} from a spike source", backend, "nengo's rules read presynaptic neurons"
        )
    if math.isfinite(rule.w_min) or math.isfinite(rule.w_max):
        raise UnsupportedFeature(
            f"{name} with weight bounds [{rule.w_min}, {rule.w_max}]",
            backend,
            "nengo's rules do not clip: use w_min=-inf, w_max=inf",
        )
    if isinstance(rule, BCM) and rule.threshold != "mean":
        raise UnsupportedFeature(
            f"{name} with threshold={rule.threshold!r}", backend, "nengo.BCM filters y: use threshold='mean'"
        )


def check_pairs(lowered, backend: str) -> None:
    """Refuse a learning projection with two synapses between one pair of neurons (drawn in
    ``lowered``, :func:`hardware.lowering.concrete`): nengo learns on a dense transform, one
    weight per pair, which would sum them."""
    for synapses in lowered.synapses:
        projection = synapses.projection
        if projection.plasticity is None:
            continue
        pairs = (
            synapses.post.astype(np.int64) * lowered.network.node_size(projection.pre, "pre") + synapses.pre
        )
        if np.unique(pairs).size != pairs.size:
            raise UnsupportedFeature(
                f"{type(projection.plasticity).__name__} on projection {projection.name!r} with two "
                "synapses between one pair of neurons",
                backend,
                "nengo learns one weight per (pre, post) pair",
            )


def learning_rule(nengo, rule, scale: float):
    """The nengo learning rule for ``rule`` on a transform of ``scale`` x our weight."""
    pre = nengo.Lowpass(rule.tau_rate)
    if isinstance(rule, Oja):
        return nengo.Oja(learning_rate=rule.learning_rate * scale, beta=rule.beta / scale, pre_synapse=pre)
    return nengo.BCM(
        learning_rate=rule.learning_rate * scale, pre_synapse=pre, theta_synapse=nengo.Lowpass(rule.tau_theta)
    )
