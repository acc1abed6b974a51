"""NengoDL backend and the Keras -> NengoDL converter route.

:class:`NengoDLBackend` runs the ``nengo.Network`` that :func:`hardware.nengo.build_nengo`
makes (the one translation; its docstring has the parameter mapping) in
``nengo_dl.Simulator`` on the CPU, in float64. The input nodes' outputs (the reference's
spikes and currents for the seed) are fed as ``data`` instead of being called step by
step from Python. NengoDL implements nengo's LIF and SpikingRectifiedLinear steps in
TensorFlow, so it agrees with the nengo backend up to rounding.

:func:`convert_keras` is the converter route: a small Keras ReLU network trained on a
dataset, converted with ``nengo_dl.Converter`` swapping ReLU for
``nengo.SpikingRectifiedLinear`` (firing rates scaled by ``scale_firing_rates``, output
amplitude by its inverse), and evaluated for a number of timesteps with every input
held constant, as in NengoDL's "Converting a Keras model to a spiking neural network"
tutorial. nengo-dl 3.6 needs :mod:`hardware.tf_compat` on modern TensorFlow.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass

import numpy as np

from hardware.base import Capabilities
from hardware.nengo import NengoBackend, build_nengo, capabilities, collect, versions
from hardware.tf_compat import import_nengo_dl
from snn import validate
from snn.network import Network
from snn.result import Result

NAME = "nengo-dl"


class NengoDLBackend(NengoBackend):
    """Runs the network in ``nengo_dl.Simulator`` (TensorFlow graph, CPU, float64); the
    translation, checks and deployment are :class:`hardware.nengo.NengoBackend`'s."""

    name = NAME

    def __init__(self, device: str = "/cpu:0", unroll: int = 1, native_lif: bool = True) -> None:
        super().__init__(native_lif)
        self.device = device
        self.unroll = validate.count("NengoDLBackend.unroll", unroll)

    def capabilities(self) -> Capabilities:
        caps = capabilities()
        return dataclasses.replace(
            caps,
            # delta synapses: nengo's discrete pass-through filter, buildable once
            # hardware.tf_compat gives its step the 1-D D nengo-dl 3.6 expects
            dendrites=False,  # the segments are a Python nengo.Node between steps: not in a TF graph
            notes=(*caps.notes, "run in nengo_dl.Simulator"),
        )

    def _simulate(
        self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None
    ) -> Result:
        nengo_dl = import_nengo_dl()
        from hardware.nengo_dl_neurons import register

        register()  # LinearNeurons as a TensorFlow step, not a Python fallback
        start = time.perf_counter()
        model, handles = build_nengo(network, dt, seed, backend=self.name, native=self.native_lif)
        with model:
            nengo_dl.configure_settings(dtype="float64", stateful=False)
        data = {node: values[None] for node, values in handles.input_data(n_steps).items()}
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        # nengo derives max rates from the given gain and bias, dividing by zero for a zero bias
        with np.errstate(divide="ignore", invalid="ignore"), nengo_dl.Simulator(
            model, dt=dt, seed=seed, device=self.device, unroll_simulation=self.unroll,
            progress_bar=bool(progress),
        ) as sim:  # fmt: skip
            compile_s = time.perf_counter() - start
            start = time.perf_counter()
            padded = -(-n_steps // self.unroll) * self.unroll
            padded_data = {
                node: np.pad(v, ((0, 0), (0, padded - n_steps), (0, 0))) for node, v in data.items()
            }
            sim.run_steps(padded, data=padded_data, progress_bar=bool(progress))
            run_s = time.perf_counter() - start
            probed = {
                probe: np.asarray(sim.data[probe]).reshape(-1, probe.size_in) for probe in model.all_probes
            }
        import tensorflow as tf

        timing = {"build_s": build_s, "compile_s": compile_s, "run_s": run_s}
        extra = {"nengo_dl": nengo_dl.__version__, "tensorflow": tf.__version__}
        return collect(network, handles, probed, n_steps, timing, self.name, versions(**extra))


@dataclass
class Conversion:
    """What :func:`convert_keras` measured, per test sample where it is a cost.

    ``snn_accuracy``, ``mean_rate_hz`` (mean firing rate of the hidden neurons) and
    ``synaptic_ops`` (hidden spikes times their fan-out, per sample) are keyed by the
    number of timesteps. ``macs``: the analog input layer's multiply-accumulates, counted
    once per sample; ``ann_macs``: the Keras network's. ``dt`` (s) is the simulation step,
    so ``T`` timesteps present each sample for ``T * dt`` seconds.
    """

    ann_accuracy: float
    snn_accuracy: dict[int, float]
    mean_rate_hz: dict[int, float]
    synaptic_ops: dict[int, float]
    macs: float
    ann_macs: float
    scale_firing_rates: float
    synapse: float | None
    dt: float
    hidden: tuple[int, ...]
    epochs_trained: int
    train_seconds: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def convert_keras(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    timesteps: tuple[int, ...] = (32,),
    scale_firing_rates: float = 100.0,
    synapse: float | None = None,
    hidden: tuple[int, ...] = (128,),
    epochs: int = 100,
    patience: int = 10,
    dt: float = 1e-3,
    seed: int = 0,
    batch_size: int = 120,
) -> Conversion:
    """Train a Keras ReLU MLP, convert it with ``nengo_dl.Converter`` to spiking rectified
    linear neurons and evaluate both on the test set.

    ``x_*``: features, shape ``(n, n_features)``; ``y_*``: integer labels ``(n,)``.
    Training: Adam 1e-3, batches of 32, early stopping on the validation loss (best
    weights kept), TensorFlow seeded with ``seed``. The spiking network sees each test
    sample held for ``max(timesteps)`` steps of ``dt`` seconds; its class is the argmax of
    the output averaged over the first ``T`` steps (so one run gives every ``T``).
    ``synapse`` (s): the converter's lowpass on every connection (None: none). The hidden
    neurons fire at ``scale_firing_rates`` times their ReLU activation (Hz per unit) and
    the output amplitude is divided by it, so the network computes the same function.
    """
    timesteps = tuple(sorted({validate.count("timesteps", t) for t in timesteps}))
    scale_firing_rates = validate.positive("scale_firing_rates", scale_firing_rates)
    nengo_dl = import_nengo_dl()
    import nengo
    import tensorflow as tf

    start = time.perf_counter()
    tf.keras.utils.set_random_seed(seed)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    inputs = tf.keras.Input(shape=(x_train.shape[1],))
    layer, hidden_layers = inputs, []
    for width in hidden:
        dense = tf.keras.layers.Dense(width, activation=tf.nn.relu)
        hidden_layers.append(dense)
        layer = dense(layer)
    outputs = tf.keras.layers.Dense(n_classes)(layer)
    keras_model = tf.keras.Model(inputs=inputs, outputs=outputs)
    keras_model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-3),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    stop = tf.keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    history = keras_model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=32,
        callbacks=[stop], verbose=0, shuffle=True,
    )  # fmt: skip
    train_seconds = time.perf_counter() - start
    ann_accuracy = float(np.mean(np.argmax(keras_model.predict(x_test, verbose=0), axis=1) == y_test))
    widths = [x_train.shape[1], *hidden, n_classes]
    ann_macs = float(sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True)))

    converter = nengo_dl.Converter(
        keras_model,
        swap_activations={tf.nn.relu: nengo.SpikingRectifiedLinear()},
        scale_firing_rates=scale_firing_rates,
        synapse=synapse,
    )
    with converter.net:
        nengo_dl.configure_settings(stateful=False)
        hidden_probes = [nengo.Probe(converter.layers[dense]) for dense in hidden_layers]
    n_steps = timesteps[-1]
    n_test = x_test.shape[0]
    batch = min(batch_size, n_test)
    padded = -(-n_test // batch) * batch
    tiled = np.zeros((padded, n_steps, x_test.shape[1]), dtype=np.float32)
    tiled[:n_test] = x_test[:, None, :]
    output_probe = converter.outputs[outputs]
    with nengo_dl.Simulator(converter.net, minibatch_size=batch, dt=dt, seed=seed, progress_bar=False) as sim:
        predicted = sim.predict({converter.inputs[inputs]: tiled}, verbose=0)
    scores = np.cumsum(predicted[output_probe][:n_test], axis=1)  # (n_test, steps, classes)
    # a spike is amplitude / dt high with amplitude = 1 / scale_firing_rates
    spikes = [np.rint(predicted[p][:n_test] * dt * scale_firing_rates) for p in hidden_probes]
    fan_out = widths[2:]
    accuracy, rate, ops = {}, {}, {}
    for t in timesteps:
        accuracy[t] = float(np.mean(np.argmax(scores[:, t - 1], axis=1) == y_test))
        counts = [s[:, :t].sum(axis=1) for s in spikes]  # (n_test, width) per hidden layer
        total = sum(c.sum() for c in counts)
        rate[t] = float(total / (n_test * sum(hidden) * t * dt))
        ops[t] = float(sum(c.sum() * f for c, f in zip(counts, fan_out, strict=True)) / n_test)
    return Conversion(
        ann_accuracy=ann_accuracy,
        snn_accuracy=accuracy,
        mean_rate_hz=rate,
        synaptic_ops=ops,
        macs=float(widths[0] * widths[1]),
        ann_macs=ann_macs,
        scale_firing_rates=scale_firing_rates,
        synapse=synapse,
        dt=dt,
        hidden=tuple(hidden),
        epochs_trained=len(history.history["loss"]),
        train_seconds=train_seconds,
        seconds=time.perf_counter() - start,
    )


__all__ = ["Conversion", "NengoDLBackend", "convert_keras"]
