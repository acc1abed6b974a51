"""Learning rules (:mod:`snn.plasticity`) as Brian2 ``Synapses`` equations.

The statements are generated from the rule's fields, so the two simulators run the same
rule in the same order within a step (:mod:`snn.plasticity.kernels`).

* **Spike-timing rules** (pair, triplet, reward-modulated): traces are synaptic variables
  with ``(event-driven)`` exponential decay (Brian2 brings them up to date exactly at each
  pre or post event, as the reference does), an ``on_pre`` appended after the delivery of
  the weight (so it sees the delayed presynaptic spike) and an ``on_post``.
* **Reward STDP**: the pairings change an eligibility ``c``; the projection's dopamine
  ``d`` is a shared variable that the network's :class:`snn.Reward` schedules raise at
  the start of their step (a ``TimedArray``). At the end of every step ``w`` moves by
  ``learning_rate c d dt``, then ``c`` and ``d`` decay by one step.
* **Rate rules** (Oja, BCM): each synapse keeps its own copy of the presynaptic rate ``x``
  and the postsynaptic rate ``y`` (and BCM's threshold ``theta``), the same values the
  reference keeps per neuron: decayed at the start of the step, raised by a zero-delay
  pathway of the step's spikes (the rate sees the spike as emitted, not after the
  synapse's delay), and the weight updated at the end of the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snn.plasticity import BCM, Oja, PairSTDP, RewardSTDP, TripletSTDP

#: the rules Brian2 runs
RULES_RUN = ("PairSTDP", "TripletSTDP", "RewardSTDP", "Oja", "BCM")


@dataclass(frozen=True)
class RuleEquations:
    """Brian2 text for one rule: extra ``model`` lines, ``on_pre`` statements (appended to
    the delivering pathway) and ``on_post``, their ``namespace`` (constants with units),
    ``rates_pre``: statements of an extra zero-delay pathway (or None), and ``each_step``:
    ``(when, statements)`` run every step, in order."""

    model: str
    on_pre: str
    on_post: str
    namespace: dict
    rates_pre: str | None = None
    each_step: tuple[tuple[str, str], ...] = ()


def _bounded(change: str, sign: str, rule) -> str:
    """``w = ...`` after a change (``change`` >= 0, in weight units) of ``sign`` ('+'/'-')."""
    if rule.bounds == "soft":
        distance = "(w_max - w)" if sign == "+" else "(w - w_min)"
        return f"w = w {sign} ({change}) * {distance} / (w_max - w_min)"
    return f"w = clip(w {sign} ({change}), w_min, w_max)"


def _changed(delta: str, rule) -> str:
    """``w = ...`` after a signed change ``delta``: potentiation or depression under the
    rule's bounds, as :func:`snn.plasticity.kernels.change` picks by its sign."""
    if rule.bounds == "soft":
        return (
            f"w = w + int(({delta}) >= zero_w) * ({delta}) * (w_max - w) / (w_max - w_min)"
            f" + int(({delta}) < zero_w) * ({delta}) * (w - w_min) / (w_max - w_min)"
        )
    return f"w = clip(w + ({delta}), w_min, w_max)"


def rule_equations(b2, rule, unit, dt: float) -> RuleEquations:
    """The Brian2 form of ``rule`` for weights in ``unit`` (``b2.volt`` or ``b2.amp``) at
    time step ``dt`` (s)."""
    namespace = {"w_min": rule.w_min * unit, "w_max": rule.w_max * unit, "zero_w": 0 * unit}
    if isinstance(rule, (PairSTDP, RewardSTDP)):
        namespace.update(tau_plus=rule.tau_plus * b2.second, tau_minus=rule.tau_minus * b2.second)
        traces = (
            "dapre/dt = -apre / tau_plus : 1 (event-driven)\n"
            "dapost/dt = -apost / tau_minus : 1 (event-driven)"
        )
    if isinstance(rule, PairSTDP):
        namespace.update(a_plus=rule.a_plus * unit, a_minus=rule.a_minus * unit)
        bump = "= 1" if rule.pairing == "nearest" else "+= 1"
        return RuleEquations(
            model=traces,
            on_pre=f"{_bounded('a_minus * apost', '-', rule)}\napre {bump}",
            on_post=f"{_bounded('a_plus * apre', '+', rule)}\napost {bump}",
            namespace=namespace,
        )
    if isinstance(rule, RewardSTDP):
        # c holds the pairings in weight units per unit of dopamine, kept dimensionless here;
        # the learning rate carries the weight unit
        namespace.update(
            a_plus=rule.a_plus,
            a_minus=rule.a_minus,
            rate_dt=rule.learning_rate * dt * unit,
            c_keep=math.exp(-dt / rule.tau_c),
            d_keep=math.exp(-dt / rule.tau_dopamine),
        )
        return RuleEquations(
            model=f"{traces}\nc : 1\nd : 1 (shared)",
            on_pre="c -= a_minus * apost\napre += 1",
            on_post="c += a_plus * apre\napost += 1",
            namespace=namespace,
            each_step=(
                ("end", f"{_changed('rate_dt * c * d', rule)}\nc = c * c_keep"),
                ("end", "d = d * d_keep"),  # after every synapse used this step's level
            ),
        )
    if isinstance(rule, TripletSTDP):
        namespace.update(
            a2_plus=rule.a2_plus * unit,
            a3_plus=rule.a3_plus * unit,
            a2_minus=rule.a2_minus * unit,
            a3_minus=rule.a3_minus * unit,
            tau_plus=rule.tau_plus * b2.second,
            tau_minus=rule.tau_minus * b2.second,
            tau_x=rule.tau_x * b2.second,
            tau_y=rule.tau_y * b2.second,
        )
        return RuleEquations(
            model="dr1/dt = -r1 / tau_plus : 1 (event-driven)\n"
            "dr2/dt = -r2 / tau_x : 1 (event-driven)\n"
            "do1/dt = -o1 / tau_minus : 1 (event-driven)\n"
            "do2/dt = -o2 / tau_y : 1 (event-driven)",
            # r2 and o2 enter before their own increment (Pfister & Gerstner's "epsilon")
            on_pre=f"{_bounded('o1 * (a2_minus + a3_minus * r2)', '-', rule)}\nr1 += 1\nr2 += 1",
            on_post=f"{_bounded('r1 * (a2_plus + a3_plus * o2)', '+', rule)}\no1 += 1\no2 += 1",
            namespace=namespace,
        )
    if isinstance(rule, (Oja, BCM)):
        # rates in Hz, kept dimensionless; the learning rate carries the weight unit
        keep = math.exp(-dt / rule.tau_rate)
        namespace.update(rate_keep=keep, rate_jump=(1.0 - keep) / dt, rate_dt=rule.learning_rate * dt * unit)
        if isinstance(rule, Oja):
            namespace["beta"] = rule.beta / unit
            update = _changed("rate_dt * (x * y - beta * y * y * w)", rule)
            model = "x : 1\ny : 1"
        else:
            namespace["theta_keep"] = math.exp(-dt / rule.tau_theta)
            target = "y * y" if rule.threshold == "squared" else "y"
            # the threshold first, so it includes this step's rate (as the reference and nengo.BCM)
            update = (
                f"theta = theta_keep * theta + (1 - theta_keep) * {target}\n"
                f"{_changed('rate_dt * x * y * (y - theta)', rule)}"
            )
            model = "x : 1\ny : 1\ntheta : 1"
        return RuleEquations(
            model=model,
            on_pre="",
            on_post="y += rate_jump",
            namespace=namespace,
            rates_pre="x += rate_jump",
            each_step=(("start", "x = x * rate_keep\ny = y * rate_keep"), ("end", update)),
        )
    raise ValueError(f"no Brian2 form of {type(rule).__name__}")  # the pre-flight check refuses it first


def reward_table(rewards, projection: str, dt: float, n_steps: int) -> tuple[np.ndarray, int] | None:
    """The dopamine that ``rewards`` (:class:`snn.Reward` schedules) deliver to
    ``projection`` during ``n_steps``: (amount per sample, steps per sample) at the
    coarsest interval every delivery lands on, or None if none does."""
    steps, amounts = [], []
    for reward in rewards:
        if reward.projection == projection:
            due = reward.steps(dt)
            inside = due < n_steps
            steps.append(due[inside])
            amounts.append(reward.amounts[inside])
    if not steps or not sum(s.size for s in steps):
        return None
    steps, amounts = np.concatenate(steps), np.concatenate(amounts)
    interval = math.gcd(*(int(s) for s in steps), n_steps)
    table = np.zeros(-(-n_steps // interval))
    np.add.at(table, steps // interval, amounts)  # amounts due at one step add up
    return table, interval
