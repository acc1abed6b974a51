"""A native TensorFlow step for :class:`hardware.nengo_neurons.LinearNeurons` in NengoDL.

Without it NengoDL runs ``LinearNeurons`` (LIF, ALIF, IF, LI, CubaLIF as the reference steps
them) through ``tf.numpy_function``: the graph leaves TensorFlow every step and no gradient
flows, so NengoDL's own training cannot touch such a network. This builder writes the same
step in TensorFlow from the model layer's own arithmetic (:func:`snn.models.lif.integrate`,
:func:`snn.models.alif.threshold` and :func:`~snn.models.alif.adapt`, applied to tensors),
per neuron (several populations' ops merge into one builder), so it runs inside the graph:

``u = alpha v + c + J`` (held neurons keep ``v``), spike where ``u > v_th + beta b``,
reset (to ``v_reset`` or down by ``reset_amount``), the refractory countdown, ``b <- rho b +
(1 - rho) z``; the states ``u``, ``threshold`` and ``held`` as ``LinearNeurons`` records them.

The spike is a step function whose gradient is Bellec et al.'s pseudo-derivative
(:func:`snn.learning.surrogates.triangle` with ``gamma`` = :data:`GAMMA`, in units of the
threshold span), so ``nengo_dl.Simulator.fit`` trains through time (BPTT) on the very
forward pass it simulates. :func:`register` adds the builder to NengoDL's table once.
"""

from __future__ import annotations

import functools

import numpy as np

from snn.learning.surrogates import triangle
from snn.models import alif, lif

GAMMA = 0.3  # pseudo-derivative dampening, as e-prop's default (Bellec et al. 2020)


@functools.cache
def spike_function():
    """``spike(distance)``: 0/1 where ``distance`` (to threshold, in threshold spans) is
    positive, with the triangle pseudo-derivative as its gradient (TensorFlow)."""
    import tensorflow as tf

    @tf.custom_gradient
    def spike(distance):
        def gradient(upstream):
            return upstream * triangle(distance, GAMMA)

        return tf.cast(distance > 0, distance.dtype), gradient

    return spike


@functools.cache
def builder_class():
    """The ``LinearNeuronsBuilder`` class (TensorFlow and nengo-dl imported only here)."""
    import tensorflow as tf
    from nengo_dl.neuron_builders import TFNeuronBuilder

    spike = spike_function()

    class LinearNeuronsBuilder(TFNeuronBuilder):
        """Builds ``LinearNeurons`` ops as a TensorFlow step (see :mod:`hardware.nengo_dl_neurons`)."""

        spiking = False  # the same step trains and runs: no rate stand-in, the surrogate above

        def build_pre(self, signals, config):
            super().build_pre(signals, config)
            for op in self.ops:  # the constants (decays, refractory steps) hold for one dt only
                op.neurons.check_dt(signals.dt_val)
            sizes = [op.J.shape[0] for op in self.ops]

            def per_neuron(attr: str):
                values = np.concatenate(
                    [
                        np.full(n, float(getattr(op.neurons, attr)))
                        for op, n in zip(self.ops, sizes, strict=True)
                    ]
                )
                return tf.constant(values[None, :], dtype=signals.dtype)

            names = ("alpha", "const_drive", "v_th", "rho", "beta", "v_reset", "reset_amount", "ref_steps")
            self.p = {name: per_neuron(name) for name in names}
            self.p["subtract"] = per_neuron("reset_subtract")
            self.p["spiking"] = per_neuron("spiking")
            span = [op.neurons.reset_amount if op.neurons.spiking else 1.0 for op in self.ops]
            self.p["span"] = tf.constant(
                np.concatenate([np.full(n, s) for n, s in zip(sizes, span, strict=True)])[None, :],
                signals.dtype,
            )

        def step(self, J, dt, voltage, adaptation, refractory, u, threshold, held):
            p = self.p
            holding = tf.cast(lif.holding(refractory), J.dtype)
            threshold = alif.threshold(p["v_th"], p["beta"], adaptation)
            free = lif.integrate(voltage, p["alpha"], p["const_drive"], J)
            u = holding * voltage + (1.0 - holding) * free
            # a non-spiking model's threshold is infinite: its distance stays finite at -1
            distance = tf.where(p["spiking"] > 0, (u - threshold) / p["span"], -tf.ones_like(u))
            z = spike(distance) * (1.0 - holding)
            voltage = lif.reset_fired(u, z, p["v_reset"], p["reset_amount"], p["subtract"] > 0, tf.where)
            left = tf.cast(refractory > 0, J.dtype) * (refractory - 1.0)  # lif.count_down, cast for TF
            refractory = tf.where(z > 0, p["ref_steps"] * tf.ones_like(left), left)
            adaptation = tf.where(p["rho"] < 1.0, alif.adapt(adaptation, p["rho"], z), adaptation)
            output = tf.where(p["spiking"] > 0, z / dt, voltage)
            return output, voltage, adaptation, refractory, u, threshold, holding

    return LinearNeuronsBuilder


def register() -> None:
    """Give ``LinearNeurons`` this native builder in NengoDL (idempotent)."""
    from nengo_dl.neuron_builders import SimNeuronsBuilder

    from hardware.nengo_neurons import linear_class

    SimNeuronsBuilder.TF_NEURON_IMPL.setdefault(linear_class(), builder_class())
