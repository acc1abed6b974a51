"""Learning rules (:mod:`snn.plasticity`) as Brian2 ``Synapses`` equations.

Each rule becomes synaptic variables with ``(event-driven)`` exponential decay (Brian2
brings them up to date exactly at each pre or post event, as the reference does), an
``on_pre`` appended after the delivery of the weight, and an ``on_post``. The statements
are generated from the rule's fields, so the two simulators run the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from snn.plasticity import PairSTDP, TripletSTDP

#: the rules Brian2 runs (the others are refused by the pre-flight check)
RULES_RUN = ("PairSTDP", "TripletSTDP")


@dataclass(frozen=True)
class RuleEquations:
    """Brian2 text for one rule: extra ``model`` lines, ``on_pre`` and ``on_post``
    statements, and their ``namespace`` (constants with units)."""

    model: str
    on_pre: str
    on_post: str
    namespace: dict


def _bounded(change: str, sign: str, rule, unit: str) -> str:
    """``w = ...`` after a change (``change`` >= 0, in weight units) of ``sign`` ('+'/'-')."""
    if rule.bounds == "soft":
        distance = "(w_max - w)" if sign == "+" else "(w - w_min)"
        return f"w = w {sign} ({change}) * {distance} / (w_max - w_min)"
    return f"w = clip(w {sign} ({change}), w_min, w_max)"


def rule_equations(b2, rule, unit) -> RuleEquations:
    """The Brian2 form of ``rule`` for weights in ``unit`` (``b2.volt`` or ``b2.amp``)."""
    namespace = {"w_min": rule.w_min * unit, "w_max": rule.w_max * unit}
    if isinstance(rule, PairSTDP):
        namespace.update(
            a_plus=rule.a_plus * unit,
            a_minus=rule.a_minus * unit,
            tau_plus=rule.tau_plus * b2.second,
            tau_minus=rule.tau_minus * b2.second,
        )
        bump = "= 1" if rule.pairing == "nearest" else "+= 1"
        return RuleEquations(
            model="dapre/dt = -apre / tau_plus : 1 (event-driven)\n"
            "dapost/dt = -apost / tau_minus : 1 (event-driven)",
            on_pre=f"{_bounded('a_minus * apost', '-', rule, unit)}\napre {bump}",
            on_post=f"{_bounded('a_plus * apre', '+', rule, unit)}\napost {bump}",
            namespace=namespace,
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
            on_pre=f"{_bounded('o1 * (a2_minus + a3_minus * r2)', '-', rule, unit)}\nr1 += 1\nr2 += 1",
            on_post=f"{_bounded('r1 * (a2_plus + a3_plus * o2)', '+', rule, unit)}\no1 += 1\no2 += 1",
            namespace=namespace,
        )
    raise ValueError(f"no Brian2 form of {type(rule).__name__}")  # the pre-flight check refuses it first
