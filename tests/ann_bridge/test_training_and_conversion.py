import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import snn  # noqa: E402
from ann_bridge.baselines import MLP, CNN1d, GRUClassifier, LSTMClassifier  # noqa: E402
from ann_bridge.classifier import SpikingClassifier, SpikingCNN, encode  # noqa: E402
from ann_bridge.conversion import convert, evaluate  # noqa: E402
from ann_bridge.training import TrainConfig, accuracy, train  # noqa: E402
from studies.experiments.datasets import load  # noqa: E402

CONFIG = TrainConfig(seed=0, epochs=300, patience=40, lr=1e-3, weight_decay=1e-3, progress=False)


@pytest.fixture(scope="module")
def digits():
    return load("digits", seed=0, val_fraction=0.1)


@pytest.fixture(scope="module")
def trained_mlp(digits):
    torch.manual_seed(0)
    model = MLP(digits.n_features, (256,), digits.n_classes)
    train(model, digits.x_train, digits.y_train, digits.x_val, digits.y_val, CONFIG)
    return model.cpu()


def test_mlp_learns_digits(digits, trained_mlp):
    assert accuracy(trained_mlp, digits.x_test, digits.y_test) >= 0.95


def test_training_is_reproducible(digits):
    def weights():
        torch.manual_seed(0)
        model = MLP(digits.n_features, (32,), digits.n_classes)
        config = TrainConfig(seed=3, epochs=3, patience=3, progress=False)
        train(model, digits.x_train, digits.y_train, digits.x_val, digits.y_val, config)
        return [p.detach().cpu().clone() for p in model.parameters()]

    for a, b in zip(weights(), weights(), strict=True):
        assert torch.equal(a, b)


def test_converted_snn_within_one_point_of_its_ann_at_64_steps(digits, trained_mlp):
    ann = accuracy(trained_mlp, digits.x_test, digits.y_test)
    converted = convert(trained_mlp, digits.x_train)
    run = evaluate(converted, digits.x_test, digits.y_test, [4, 64])
    assert abs(run.accuracy[64] - ann) <= 0.01
    # rate coding needs time: after 4 steps the network has barely started to fire
    assert run.accuracy[4] < run.accuracy[64]
    assert run.synaptic_ops[64] > run.synaptic_ops[4] > 0


def test_converted_rates_follow_relu_activations(digits, trained_mlp):
    """The defining property of the conversion: a hidden IF neuron's rate (spikes per step)
    approximates its ReLU activation divided by the layer's scale (Rueckauer et al. 2017)."""
    converted = convert(trained_mlp, digits.x_train)
    x = digits.x_test[:20]
    steps = 400
    from ann_bridge.conversion import to_network

    result = snn.Simulator(to_network(converted, x), dt=1e-3, progress=False).run(steps * 1e-3)
    rates = result.spike_counts("h0").reshape(len(x), -1) / steps
    with torch.no_grad():
        linear = trained_mlp.net[0]
        activation = torch.relu(linear(torch.as_tensor(x))).numpy() / converted.scales[0]
    expected = np.clip(activation, 0, 1)
    assert np.max(np.abs(rates - expected)) < 2.0 / steps + 1e-9


def test_encodings(digits):
    x = torch.as_tensor(digits.x_test[:50])
    torch.manual_seed(0)
    rate = encode(x, 2000, "rate")
    torch.testing.assert_close(rate.mean(0), x, atol=0.05, rtol=0)
    latency = encode(x, 10, "latency")
    assert torch.equal(latency.sum(0), (x > 0).to(x.dtype))
    first = latency.argmax(0)
    assert torch.equal(first[x >= 1], torch.zeros_like(first[x >= 1]))  # the brightest spike first
    assert torch.equal(encode(x, 3, "analog")[2], x)


def test_model_shapes_and_costs(digits):
    x = torch.as_tensor(digits.x_test[:8])
    for model in (
        CNN1d(digits.image_shape, 10),
        GRUClassifier(digits.image_shape, 10),
        LSTMClassifier(digits.image_shape, 10),
        SpikingClassifier(64, (16,), 10, timesteps=5),
        SpikingCNN(digits.image_shape, 10, timesteps=3),
    ):
        assert model(x).shape == (8, 10)
    mlp = MLP(64, (256,), 10)
    assert mlp.macs() == 64 * 256 + 256 * 10
    for recurrent in (GRUClassifier(digits.image_shape, 10), LSTMClassifier(digits.image_shape, 10)):
        # every step multiplies the input and the hidden state by all gates' weights (torch's shapes)
        per_step = recurrent.rnn.weight_ih_l0.numel() + recurrent.rnn.weight_hh_l0.numel()
        assert recurrent.macs() == digits.image_shape[1] * per_step + recurrent.out.weight.numel()


def test_bad_input_is_named():
    with pytest.raises(snn.ValidationError, match="x_train"):
        train(
            MLP(2, (4,), 2),
            np.array([[np.nan, 0.0]]),
            np.array([0]),
            np.zeros((1, 2)),
            np.array([0]),
            TrainConfig(epochs=1, progress=False),
        )
    with pytest.raises(snn.ValidationError, match="encoding"):
        SpikingClassifier(4, (4,), 2, encoding="phase")
    with pytest.raises(snn.ValidationError, match="timesteps"):
        SpikingClassifier(4, (4,), 2, timesteps=0)
    with pytest.raises(snn.ValidationError, match="dataset"):
        load("cifar10")
    with pytest.raises(snn.ValidationError, match="TrainConfig.lr"):
        TrainConfig(lr=0.0)


@pytest.mark.slow
def test_direct_snn_reaches_95_percent_on_digits(digits):
    torch.manual_seed(0)
    model = SpikingClassifier(digits.n_features, (256,), digits.n_classes, timesteps=25)
    train(
        model,
        digits.x_train,
        digits.y_train,
        digits.x_val,
        digits.y_val,
        TrainConfig(seed=0, epochs=100, patience=15, lr=2e-3, progress=False),
    )
    assert accuracy(model, digits.x_test, digits.y_test) >= 0.95


def test_operation_counts(digits):
    x = torch.as_tensor(digits.x_test[:10])
    analog = SpikingClassifier(64, (16,), 10, timesteps=7, encoding="analog")
    with torch.no_grad():
        analog(x)
    # the constant input is weighted once per sample: nonzero inputs x 16 targets
    assert analog.macs == pytest.approx(float((x != 0).sum()) * 16 / 10)
    rate = SpikingClassifier(64, (16,), 10, timesteps=7, encoding="rate")
    with torch.no_grad():
        rate(x)
    assert rate.macs == 0 and rate.accumulates > 0


def test_conversion_input_checks(digits, trained_mlp):
    converted = convert(trained_mlp, digits.x_train)
    with pytest.raises(snn.ValidationError, match="timesteps"):
        evaluate(converted, digits.x_test, digits.y_test, [])
    with pytest.raises(snn.ValidationError, match="x"):
        evaluate(converted, digits.x_test[:, :10], digits.y_test, [4])
    with pytest.raises(snn.ValidationError, match="y"):
        evaluate(converted, digits.x_test, digits.y_test[:5], [4])
    with pytest.raises(snn.ValidationError, match="x_train"):
        convert(trained_mlp, np.full((3, 64), np.nan))
    with pytest.raises(snn.ValidationError, match="y_train"):
        train(
            MLP(2, (4,), 2),
            np.zeros((2, 2)),
            np.array([0.5, 1.0]),
            np.zeros((1, 2)),
            np.array([0]),
            TrainConfig(epochs=1, progress=False),
        )
