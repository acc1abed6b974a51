"""Nengo neuron types that run a neurobridge model's own step.

Nengo ships no AdEx, and its ``Izhikevich`` works in millivolts with its own (semi-implicit)
update. Instead of translating the equations a second time, :class:`ModelNeurons` is a
``nengo.neurons.NeuronType`` whose ``step`` calls the model's step function, compiled as
for :class:`snn.Simulator` (:mod:`snn.kernels.steps`). Its input ``J`` is the model's input
current in amperes (Ensemble gain 1, bias 0: ``i_bias`` is one of the step's constants),
its state ``voltage`` is ``v`` in volts and ``adaptation`` the model's second state variable
(AdEx's ``w`` in A, Izhikevich's ``u`` in V), so a probe reads them unscaled.

The linear models that nengo's own types cannot run as we do (ALIF's adaptive threshold,
LI readouts, reset by subtraction, forward Euler, IF with a hold or negative input) run the
same way as ``LinearNeurons``, with ``J`` the step's synaptic drive in volts.

Imported only inside the nengo adapter (nengo is an optional extra).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from snn.build.neurons import discrete_parameters
from snn.kernels import steps
from snn.kernels.simulate import step_linear_population
from snn.models import alif, lif
from snn.models.base import ADEX, IZHIKEVICH


@njit(cache=True)
def _step_population(kind, v, w, current, v_peak, v_reset, constants, fired):
    """One step of ``dt`` of every neuron of a nonlinear population (in place); ``fired``
    gets 1 where a neuron spiked."""
    for i in range(v.size):
        v[i], w[i], spiked = steps.nonlinear_step(kind, v[i], w[i], current[i], v_peak, v_reset, constants)
        fired[i] = 1.0 if spiked else 0.0


@functools.cache
def _own_step_class():
    """The base of both types (made on first use: nengo is imported only here): the model's
    name, the ``dt`` its constants were made for, and no rate curve."""
    import nengo
    from nengo.params import NumberParam, StringParam

    class OwnStepNeurons(nengo.neurons.NeuronType):
        """A neuron type whose step is one of the reference's (see :mod:`hardware.nengo_neurons`)."""

        spiking = True
        negative = True

        model_name = StringParam("model_name")
        dt = NumberParam("dt", low=0, low_open=True)

        def max_rates_intercepts(self, gain, bias):
            # nengo asks for these when gain and bias are given; they mean nothing here (every
            # connection targets the neurons directly), so report them as unknown
            return np.full_like(gain, np.nan), np.full_like(gain, np.nan)

        def check_dt(self, dt: float) -> None:
            if dt != self.dt:  # the constants (decay factors, substep length) were made for one dt
                raise ValueError(f"{self.model_name} was built for dt = {self.dt} s, run at {dt} s")

    return OwnStepNeurons


@functools.cache
def neuron_class():
    """The ``ModelNeurons`` class (made on first use: nengo is imported only here)."""
    import nengo
    from nengo.params import IntParam, NdarrayParam, NumberParam

    class ModelNeurons(_own_step_class()):
        """A neurobridge model's step as a nengo neuron type (see :mod:`hardware.nengo_neurons`)."""

        state = {"voltage": nengo.dists.Choice([0.0]), "adaptation": nengo.dists.Choice([0.0])}

        kind = IntParam("kind", low=ADEX, high=IZHIKEVICH)
        v_peak = NumberParam("v_peak")
        v_reset = NumberParam("v_reset")
        constants = NdarrayParam("constants", shape=("*",))

        def __init__(self, model_name, kind, dt, v_peak, v_reset, constants, initial_state=None):
            super().__init__(initial_state)
            self.model_name, self.kind, self.dt = model_name, kind, dt
            self.v_peak, self.v_reset, self.constants = v_peak, v_reset, constants

        def step(self, dt, J, output, voltage, adaptation):
            self.check_dt(dt)
            current = np.ascontiguousarray(J, dtype=np.float64)
            _step_population(self.kind, voltage, adaptation, current, self.v_peak, self.v_reset,
                             self.constants, output)  # fmt: skip
            output /= dt  # nengo's spikes are 1/dt high

    return ModelNeurons


@functools.cache
def linear_class():
    """The ``LinearNeurons`` class: a linear model's (LIF, ALIF, IF, LI, CubaLIF) step, the
    simulator's own (:func:`snn.kernels.simulate.step_linear_population`), as a nengo type.

    ``J`` is the step's synaptic drive in volts (what the reference adds to ``alpha v +
    const_drive``); the state is ``voltage`` (V), ``adaptation`` (ALIF's ``b``) and
    ``refractory`` (the countdown of :func:`snn.models.lif.holding`, held as floats).
    """
    import nengo
    from nengo.params import BoolParam, IntParam, NumberParam

    class LinearNeurons(_own_step_class()):
        """A neurobridge linear model's step as a nengo neuron type (:mod:`hardware.nengo_neurons`)."""

        # u, threshold, held: the step's free potential (before any reset), threshold (before
        # adaptation) and whether the neuron was refractory: what e-prop's pseudo-derivative
        # reads (hardware.nengo_eprop), recorded by the step itself
        state = {
            "voltage": nengo.dists.Choice([0.0]),
            "adaptation": nengo.dists.Choice([0.0]),
            "refractory": nengo.dists.Choice([0.0]),
            "u": nengo.dists.Choice([0.0]),
            "threshold": nengo.dists.Choice([0.0]),
            "held": nengo.dists.Choice([0.0]),
        }

        alpha = NumberParam("alpha")
        const_drive = NumberParam("const_drive")
        v_th = NumberParam("v_th")
        rho = NumberParam("rho")
        beta = NumberParam("beta")
        v_reset = NumberParam("v_reset")
        reset_amount = NumberParam("reset_amount")
        reset_subtract = BoolParam("reset_subtract")
        ref_steps = IntParam("ref_steps", low=0)
        spiking = BoolParam("spiking")

        def __init__(self, model_name, dt, values: dict, spiking: bool = True, initial_state=None):
            super().__init__(initial_state)
            self.model_name, self.dt, self.spiking = model_name, dt, bool(spiking)
            for name in ("alpha", "const_drive", "v_th", "rho", "beta", "v_reset", "reset_amount"):
                setattr(self, name, float(values[name]))
            self.reset_subtract, self.ref_steps = bool(values["reset_subtract"]), int(values["ref_steps"])

        def step(self, dt, J, output, voltage, adaptation, refractory, u, threshold, held):
            self.check_dt(dt)
            fired = np.zeros(voltage.size, dtype=np.bool_)
            drive = np.ascontiguousarray(J, dtype=np.float64)
            holding = lif.holding(refractory)
            held[...] = holding
            threshold[...] = alif.threshold(self.v_th, self.beta, adaptation)
            u[...] = np.where(holding, voltage, lif.integrate(voltage, self.alpha, self.const_drive, drive))
            params = (self.alpha, self.const_drive, self.v_th, self.rho, self.beta)
            reset = (self.v_reset, self.reset_amount, self.reset_subtract, self.ref_steps)
            step_linear_population((voltage, adaptation, refractory, drive, fired), params, reset)
            # a readout's output is its potential (an error node reads it); a spiking one's, spikes
            output[...] = fired / dt if self.spiking else voltage

    return LinearNeurons


@functools.cache
def relay_class():
    """``RelayNeurons``: output = input (``J``) in the same step, for spikes a nengo.Node
    emits that a learning rule must read as presynaptic neurons (nengo's rules on weights
    take Ensembles or Neurons only)."""

    class RelayNeurons(_own_step_class()):
        """Presynaptic 'neurons' that pass their input through unchanged (spikes of 1/dt)."""

        def __init__(self, dt: float):
            super().__init__()
            self.model_name, self.dt = "relay", dt

        def step(self, dt, J, output):
            output[...] = J

    return RelayNeurons


def relay(node, size: int, dt: float):
    """An Ensemble of ``size`` relay neurons fed by ``node`` (no synapse): its neurons emit
    what ``node`` emits, in the same step."""
    import nengo

    neuron_type = relay_class()(dt)
    ensemble = nengo.Ensemble(
        size, 1, neuron_type=neuron_type, gain=np.ones(size), bias=np.zeros(size), label=f"{node.label} relay"
    )
    nengo.Connection(node, ensemble.neurons, synapse=None)
    return ensemble.neurons


def linear_neurons(model, dt: float, initial_v: np.ndarray, initial_w: np.ndarray):
    """A ``LinearNeurons`` for ``model`` at step ``dt`` (s), starting at ``initial_v`` (V) and
    ``initial_w`` (ALIF's ``b``), shape ``(size,)``, nothing held."""
    values = discrete_parameters(model, dt)
    size = np.asarray(initial_v).size
    return linear_class()(
        type(model).__name__,
        dt,
        values,
        spiking=model.spiking,
        initial_state={
            "voltage": np.asarray(initial_v, float),
            "adaptation": np.asarray(initial_w, float),
            "refractory": np.zeros(size),
        },
    )


def model_neurons(model, dt: float, initial_v: np.ndarray, initial_w: np.ndarray):
    """A ``ModelNeurons`` for ``model`` (AdEx or Izhikevich) at step ``dt`` (s), starting at
    ``initial_v`` (V) and ``initial_w`` (the second state), both shape ``(size,)``."""
    values = discrete_parameters(model, dt)
    return neuron_class()(
        type(model).__name__,
        type(model).kernel,
        dt,
        float(values["v_th"]),
        float(values["v_reset"]),
        np.asarray(values["extra"], dtype=np.float64),
        initial_state={"voltage": np.asarray(initial_v, float), "adaptation": np.asarray(initial_w, float)},
    )


__all__ = ["linear_class", "linear_neurons", "model_neurons", "neuron_class", "relay", "relay_class"]
