"""The LSNN in NengoDL's own training (studies.experiments.lsnn_nengo_dl) and the native
TensorFlow step it runs on (hardware.nengo_dl_neurons)."""

import importlib.util

import numpy as np
import pytest

if importlib.util.find_spec("nengo_dl") is None:
    pytest.skip("nengo-dl is not installed", allow_module_level=True)


def test_the_spikes_gradient_is_the_triangle_pseudo_derivative():
    from hardware.tf_compat import import_nengo_dl

    import_nengo_dl()
    import tensorflow as tf

    from hardware.nengo_dl_neurons import GAMMA, spike_function
    from snn.learning.surrogates import triangle

    distance = tf.constant(np.linspace(-1.5, 1.5, 31))
    with tf.GradientTape() as tape:
        tape.watch(distance)
        z = spike_function()(distance)
    grad = tape.gradient(z, distance).numpy()
    np.testing.assert_array_equal(z.numpy(), (distance.numpy() > 0).astype(float))
    np.testing.assert_allclose(grad, triangle(distance.numpy(), GAMMA), rtol=0, atol=1e-15)


def test_nengo_dl_trains_the_lsnn_and_the_weights_read_back_run_alike_on_numba():
    from snn.lsnn import initial_weights
    from studies.experiments.lsnn_nengo_dl import train
    from studies.experiments.tasks import get

    task = get("digits")
    untrained = train(task, epochs=0, train_size=64)
    start = initial_weights(untrained.lsnn, np.random.default_rng(0).spawn(3)[0], task.input_gain,
                            task.recurrent_gain)  # fmt: skip
    for name in ("w_in", "w_rec", "w_out"):  # the transforms read back are the weights put in
        np.testing.assert_allclose(getattr(untrained.weights, name), getattr(start, name), rtol=1e-12,
                                   atol=1e-15)  # fmt: skip
    trained = train(task, epochs=3, train_size=256, learning_rate=2e-7)
    assert trained.history[-1] < trained.history[0]  # NengoDL's fit lowered the loss
    moved = np.abs(trained.weights.w_out - start.w_out).max()
    assert moved > 1e-4
    # the same trained network on NengoDL and on the Numba kernel scores the same
    assert trained.nengo_dl_accuracy == trained.numba_accuracy
