r"""e-prop (Bellec et al. 2020, Nat. Commun. 11:3625) as a nengo learning rule.

:func:`eprop_rule` makes an ``EProp`` :class:`nengo.learning_rules.LearningRuleType` (with its
builder and operator registered in nengo's :class:`~nengo.builder.Builder`) for a connection
into neurons of :class:`hardware.nengo_neurons.LinearNeurons` (LIF or ALIF with reset by
subtraction, as an exported LSNN's). Each step it

1. receives the readout error of the previous step (``err``, size ``n_out``, through the
   usual error connection into ``connection.learning_rule``), forms the learning signal
   ``L_j = sum_k B_jk err_k`` and sets ``delta_ji = -learning_rate x scale x L_j ebar_ji``;
2. advances the eligibility traces of :mod:`snn.kernels.lsnn` with this step's
   pseudo-derivative ``psi_j = triangle((u_j - A_j) / v_th, gamma) / v_th`` (0 while
   refractory; ``u``, ``A`` and the refractory flag are the states ``LinearNeurons`` records)
   and the presynaptic spikes that arrived this step:
   ``eps_v <- alpha (eps_v + x)``, ``e = psi (eps_v - beta eps_a)``,
   ``eps_a <- rho eps_a + (1 - rho) e``, ``ebar <- kappa ebar + e``.

The error of step ``t`` exists in nengo only at step ``t + 1`` (the exported LI readout's
potential at ``t + 1`` is the LSNN's ``y_t``), hence the order: step ``t + 1`` adds
``L_t ebar_t`` before it advances the traces to ``t + 1``; the run lasts one step more than
the sequence. ``scale`` is the connection's nengo units per unit of our weight
(:func:`hardware.nengo.transform_scale`), so a weight moves by ``-learning_rate x`` our
gradient. Nengo applies ``delta`` at every step (online); the Numba kernel sums the gradient
over the sequence with the weights held: the two agree as the learning rate goes to 0
(:func:`learn_online` measures the sum of ``delta`` at a small rate).

No Nengo package offers e-prop; this one reuses the kernel's definitions, not its code.
"""

from __future__ import annotations

import functools

import numpy as np

from snn.errors import UnsupportedFeature, ValidationError
from snn.learning.surrogates import triangle


@functools.cache
def _classes():
    import nengo
    from nengo.builder import Builder, Operator, Signal
    from nengo.builder.operator import Reset
    from nengo.params import NdarrayParam, NumberParam

    class EProp(nengo.learning_rules.LearningRuleType):
        """e-prop on a connection into ``LinearNeurons`` (see :mod:`hardware.nengo_eprop`).

        feedback: ``B`` rows of the post neurons, ``(n_post, n_out)``; kappa: the readout's
        decay per step; gamma: pseudo-derivative dampening; scale: nengo transform units per
        unit of our weight; learning_rate: per unit of gradient.
        """

        modifies = "weights"
        probeable = ("delta", "learning_signal", "eligibility")

        learning_rate = NumberParam("learning_rate", low=0, readonly=True, default=1e-3)
        gamma = NumberParam("gamma", low=0, low_open=True, readonly=True, default=0.3)
        kappa = NumberParam("kappa", low=0, high=1, readonly=True, default=0.0)
        scale = NumberParam("scale", readonly=True, default=1.0)
        feedback = NdarrayParam("feedback", shape=("*", "*"), readonly=True)

        def __init__(self, feedback, kappa, learning_rate=1e-3, gamma=0.3, scale=1.0):
            feedback = np.asarray(feedback, dtype=np.float64)
            super().__init__(learning_rate, size_in=feedback.shape[1])
            self.feedback, self.kappa, self.gamma, self.scale = feedback, kappa, gamma, scale

    class SimEProp(Operator):
        """One step of e-prop on one connection (reads pre spikes, post states, the error;
        updates ``delta``, the learning signal and the filtered eligibility)."""

        def __init__(
            self, pre, post_states, error, delta, learning_signal, eligibility, rule_type, neuron_type
        ):
            super().__init__(tag="EProp")
            self.rule_type, self.neuron_type = rule_type, neuron_type
            self.sets, self.incs = [], []
            self.reads = [pre, post_states["u"], post_states["threshold"], post_states["held"], error]
            self.updates = [delta, learning_signal, eligibility]

        def make_step(self, signals, dt, rng):
            pre, u, threshold, held, error = (signals[s] for s in self.reads)
            delta, signal, ebar = (signals[s] for s in self.updates)
            rule, neurons = self.rule_type, self.neuron_type
            alpha, rho, beta, v_th = neurons.alpha, neurons.rho, neurons.beta, neurons.v_th
            feedback, kappa, gain = rule.feedback, rule.kappa, -rule.learning_rate * rule.scale
            eps_v = np.zeros(delta.shape)
            eps_a = np.zeros(delta.shape)
            arrived = np.zeros(delta.shape[1])  # the presynaptic spikes of the previous step

            def step_eprop():
                signal[...] = feedback @ error  # L of the previous step
                delta[...] = gain * signal[:, None] * ebar
                psi = np.where(held > 0, 0.0, triangle((u - threshold) / v_th, rule.gamma) / v_th)
                free = held <= 0
                eps_v[free] = alpha * eps_v[free] + alpha * arrived[None, :]
                e = psi[:, None] * (eps_v - beta * eps_a) if beta != 0.0 else psi[:, None] * eps_v
                if beta != 0.0:
                    eps_a[...] = rho * eps_a + (1.0 - rho) * e
                ebar[...] = kappa * ebar + e
                arrived[...] = pre * dt

            return step_eprop

    @Builder.register(EProp)
    def build_eprop(model, rule_type, rule):
        connection = rule.connection
        neurons = connection.post_obj
        neuron_type = getattr(getattr(neurons, "ensemble", None), "neuron_type", None)
        if type(neuron_type).__name__ != "LinearNeurons" or not neuron_type.reset_subtract:
            raise UnsupportedFeature(
                f"e-prop into {type(neuron_type).__name__}", "nengo",
                "it reads LinearNeurons' recorded states: LIF / ALIF with reset by subtraction",
            )  # fmt: skip
        n_post = neurons.size_in
        if rule_type.feedback.shape[0] != n_post:
            raise ValidationError("EProp.feedback", f"needs {n_post} rows (the post neurons)")
        error = Signal(shape=rule.size_in, name="EProp:error")
        model.add_op(Reset(error))
        model.sig[rule]["in"] = error
        delta = model.sig[rule]["delta"]
        learning_signal = Signal(shape=(n_post,), name="EProp:learning_signal")
        eligibility = Signal(shape=delta.shape, name="EProp:eligibility")
        model.add_op(
            SimEProp(
                model.sig[connection.pre_obj]["out"],
                model.sig[neurons],
                error,
                delta,
                learning_signal,
                eligibility,
                rule_type,
                neuron_type,
            )  # fmt: skip
        )
        model.sig[rule]["learning_signal"] = learning_signal
        model.sig[rule]["eligibility"] = eligibility

    return EProp


def eprop_rule(feedback, kappa: float, learning_rate: float = 1e-3, gamma: float = 0.3, scale: float = 1.0):
    """An ``EProp`` nengo learning rule (see the module docstring)."""
    return _classes()(feedback, kappa, learning_rate=learning_rate, gamma=gamma, scale=scale)


def softmax_error(target: np.ndarray, mask: np.ndarray, dt: float):
    """A nengo Node function: the softmax loss's readout error of the previous step,
    ``mask_t (softmax(y_t) - target_t)``, from the readout's potential ``y_t`` read at
    step ``t + 1`` (0 before the first)."""

    def error(time: float, y: np.ndarray) -> np.ndarray:
        index = int(round(time / dt)) - 2  # nengo's step k runs at time (k + 1) dt; y is one step old
        if index < 0 or index >= len(mask):
            return np.zeros(target.shape[1])
        shifted = np.exp(y - y.max())
        return mask[index] * (shifted / shifted.sum() - target[index])

    return error


def learn_online(lsnn, weights, x: np.ndarray, target: np.ndarray, mask: np.ndarray, *, gamma: float = 0.3,
                 learning_rate: float = 1e-10, feedback: np.ndarray | None = None,
                 seed: int = 0) -> dict[str, np.ndarray]:  # fmt: skip
    """Run one sequence ``x`` (T, n_in) of the LSNN on ``nengo.Simulator`` with e-prop on its
    input and recurrent connections (softmax loss on ``target`` (T, n_out), ``mask`` (T,);
    ``feedback`` B, default ``W_out``) and return the accumulated updates divided by
    ``-learning_rate``: the gradient estimates ``w_in`` (n_in, N) and ``w_rec`` (N, N), pre x
    post as :func:`snn.learning.eprop.gradients` returns them."""
    import nengo

    from hardware.nengo import build_nengo
    from snn.lsnn import to_network

    x, target, mask = np.asarray(x, float), np.asarray(target, float), np.asarray(mask, float)
    feedback = np.asarray(weights.w_out if feedback is None else feedback, dtype=np.float64)
    kappa = lsnn.constants(np.float64)["kappa"]
    network = to_network(lsnn, weights, x)
    groups = lsnn.groups()
    learned = {p.name: p for p in network.projections if p.post in groups}

    def rule_for(rows: slice):
        return lambda scale: eprop_rule(feedback[rows], kappa, learning_rate, gamma, scale)

    rules = {name: rule_for(groups[p.post]) for name, p in learned.items()}
    model, handles = build_nengo(network, lsnn.dt, seed, learning_rules=rules)
    with model:
        readout = handles.ensembles["readout"].neurons
        error = nengo.Node(softmax_error(target, mask, lsnn.dt), size_in=lsnn.n_out, label="e-prop error")
        nengo.Connection(readout, error, synapse=None)
        probes = {}
        for name in learned:
            rule = handles.connections[name].learning_rule
            nengo.Connection(error, rule, synapse=None)
            probes[name] = nengo.Probe(rule, "delta")
    steps = x.shape[0] + 1  # the last step's error reaches nengo one step later
    with nengo.Simulator(model, dt=lsnn.dt, seed=seed, progress_bar=False) as sim:
        sim.run_steps(steps)
    n = lsnn.n_rec
    grads = {"w_in": np.zeros((lsnn.n_in, n)), "w_rec": np.zeros((n, n))}
    for name, projection in learned.items():
        total = sim.data[probes[name]].sum(axis=0) / (-learning_rate * handles.scales[name])  # (post, pre)
        post = groups[projection.post]
        if projection.pre == "input":
            grads["w_in"][:, post] += total.T
        else:
            grads["w_rec"][groups[projection.pre], post] += total.T
    return grads
