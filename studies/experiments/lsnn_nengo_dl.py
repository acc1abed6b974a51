"""An LSNN trained by NengoDL's own tools: ``nengo_dl.Simulator.fit`` (Keras, Adam, BPTT
through the simulation loop) on the network :func:`snn.lsnn.to_network` exports, with the
neurons as :mod:`hardware.nengo_dl_neurons`' TensorFlow step (surrogate gradient).

The same LSNN, initial weights and data as ``snn train lsnn`` (:func:`studies.experiments.
lsnn_training.train`); the loss is the task's masked softmax cross-entropy on the readout
(the exported readout lags the LSNN's ``y`` by one step, so inputs get one empty step more
and targets are shifted by one). The trained transforms are read back as LSNN weights and
scored on the Numba kernel too: the two accuracies are the same network on two simulators.

    python -m studies.experiments.lsnn_nengo_dl --task digits --epochs 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from snn import validate
from snn.errors import ValidationError
from snn.lsnn import LSNN, LSNNWeights, to_network
from studies.experiments.tasks import Batch, Task, accuracy


@dataclass
class NengoDLRun:
    """What a NengoDL training run gives: accuracies on the test set in NengoDL and on the
    Numba kernel with the weights read back, the trained weights, the loss per epoch."""

    lsnn: LSNN
    weights: LSNNWeights
    nengo_dl_accuracy: float
    numba_accuracy: float
    history: list[float]
    train_seconds: float


def _shifted(batch: Batch, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Inputs as nengo spikes (height 1 / dt) with one empty step more, and targets + mask
    (last channel) one step later."""
    x = np.pad(batch.x, ((0, 0), (0, 1), (0, 0))) / dt
    y = np.concatenate([batch.target, batch.mask[..., None]], axis=-1)
    return x, np.pad(y, ((0, 0), (1, 0), (0, 0)))


def masked_cross_entropy(y_true, y_pred):
    """``-sum_t mask_t sum_k target_tk log softmax(y_t)_k`` per sequence (Keras loss)."""
    import tensorflow as tf

    target, mask = y_true[..., :-1], y_true[..., -1]
    return -tf.reduce_sum(mask * tf.reduce_sum(target * tf.nn.log_softmax(y_pred, axis=-1), axis=-1), axis=-1)


def train(task: Task, seed: int = 0, epochs: int = 30, train_size: int = 1024, minibatch: int = 64,
          learning_rate: float | None = None) -> NengoDLRun:  # fmt: skip
    """Train ``task``'s LSNN in NengoDL (see the module docstring)."""
    from hardware.nengo import build_nengo
    from hardware.nengo_dl_neurons import register
    from hardware.tf_compat import import_nengo_dl
    from snn.lsnn import run as run_lsnn
    from studies.experiments.lsnn_training import TEST_SEED, initial_lsnn

    epochs = validate.count("epochs", epochs, low=0)
    validate.count("train_size", train_size)
    validate.count("minibatch", minibatch)
    if learning_rate is not None:
        validate.positive("learning_rate", learning_rate)
    nengo_dl = import_nengo_dl()
    import nengo
    import tensorflow as tf

    register()
    tf.random.set_seed(seed)
    lsnn, weights, data_rng, _ = initial_lsnn(task, seed)
    train_batch, test_batch = task.sample(data_rng, train_size), task.test(np.random.default_rng(TEST_SEED))
    steps = train_batch.x.shape[1] + 1
    network = to_network(lsnn, weights, np.zeros((steps, lsnn.n_in)))  # the source's data comes from fit
    model, handles = build_nengo(network, lsnn.dt, seed, backend="nengo-dl")
    with model:
        nengo_dl.configure_settings(dtype="float64", stateful=False, trainable=None)
        model.config[nengo.Ensemble].trainable = False  # only the connections' weights learn
        readout = nengo.Probe(handles.ensembles["readout"].neurons, synapse=None)
    source = handles.source_nodes["input"]
    x_train, y_train = _shifted(train_batch, lsnn.dt)
    x_test, _ = _shifted(test_batch, lsnn.dt)
    # a nengo transform holds our weight x dt x alpha (spikes are 1/dt pulses): Adam's absolute
    # step is taken in those units, so the task's rate (in ours) scales by dt
    rate = task.learning_rate * lsnn.dt if learning_rate is None else learning_rate
    started = time.perf_counter()
    with nengo_dl.Simulator(model, dt=lsnn.dt, seed=seed, minibatch_size=minibatch, device="/cpu:0",
                            progress_bar=False) as sim:  # fmt: skip
        sim.compile(optimizer=tf.optimizers.Adam(rate), loss={readout: masked_cross_entropy})
        losses = []
        if epochs > 0:
            fitted = sim.fit({source: x_train}, {readout: y_train}, epochs=epochs, verbose=0)
            losses = [float(v) for v in fitted.history["loss"]]
        seconds = time.perf_counter() - started
        # NengoDL predicts whole minibatches: pad with empty sequences, score the real ones
        padded = np.pad(x_test, ((0, -len(x_test) % minibatch), (0, 0), (0, 0)))
        outputs = sim.predict({source: padded}, verbose=0)[readout][: len(x_test), 1:]
        trained = _read_back(sim, handles, network, lsnn, weights)
    ours = run_lsnn(lsnn, trained, test_batch.x)
    return NengoDLRun(lsnn, trained, accuracy(outputs, test_batch), accuracy(ours["y"], test_batch), losses,
                      seconds)  # fmt: skip


def _read_back(sim, handles, network, lsnn: LSNN, start: LSNNWeights) -> LSNNWeights:
    """The trained connections as LSNN weights (our units: nengo's divided by each
    projection's transform scale; absent recurrent synapses stay absent)."""
    groups = lsnn.groups()
    w_in, w_rec, w_out = (np.array(a, dtype=np.float64) for a in (start.w_in, start.w_rec, start.w_out))
    kappa = lsnn.constants(np.float64)["kappa"]
    for projection in network.projections:
        connection, scale = handles.connections[projection.name], handles.scales[projection.name]
        trained = np.asarray(sim.data[connection].weights, dtype=np.float64)
        if trained.ndim == 1:  # a nengo.Sparse transform: its data, in its CSR matrix's order
            csr = scipy.sparse.csr_matrix(connection.transform.init)
            trained = scipy.sparse.csr_matrix((trained, csr.indices, csr.indptr), shape=csr.shape).toarray()
        ours = trained.T / scale  # (pre, post)
        if projection.post == "readout":
            w_out[groups[projection.pre]] = ours * kappa
        elif projection.pre == "input":
            w_in[:, groups[projection.post]] = ours
        else:
            w_rec[groups[projection.pre], groups[projection.post]] = ours
    return start.replace(w_in=w_in, w_rec=w_rec * np.asarray(start.mask), w_out=w_out)


def main(argv: list[str] | None = None) -> int:
    from studies.experiments.tasks import get

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="digits")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=None,
                        help="Adam's rate in nengo's weight units (default: the task's x dt)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    try:
        run = train(
            get(args.task),
            seed=args.seed,
            epochs=args.epochs,
            train_size=args.train_size,
            learning_rate=args.lr,
        )
    except ValidationError as error:
        print(f"lsnn_nengo_dl: {error}", file=sys.stderr)
        return 2
    report = {
        "task": args.task,
        "epochs": args.epochs,
        "nengo_dl_accuracy": run.nengo_dl_accuracy,
        "numba_accuracy": run.numba_accuracy,
        "loss": run.history,
        "train_seconds": run.train_seconds,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        from studies.cli.output import write_json

        write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
