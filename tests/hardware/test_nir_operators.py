"""NIR's weight-like nodes as sparse maps (:mod:`hardware.nir_operators`) against torch's own
convolution and pooling on random inputs: the same numbers to round-off."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nir = pytest.importorskip("nir")
from hardware.nir_operators import compose, operator  # noqa: E402

F = torch.nn.functional


def apply(node, x: np.ndarray) -> np.ndarray:
    matrix, bias, shape = operator(node, x.shape)
    y = matrix @ x.ravel() + (0.0 if bias is None else bias)
    return y.reshape(shape)


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [
        (1, 0, 1, 1),
        (1, 1, 1, 1),
        (2, 1, 1, 1),
        (1, 2, 2, 1),
        (2, 0, 1, 2),
        (1, "same", 1, 2),
        ((2, 1), (1, 0), 1, 1),
    ],
)
def test_conv2d_is_torchs_conv2d(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 4 // groups, 3, 3))
    bias = rng.normal(size=4)
    x = rng.normal(size=(4, 9, 8))
    node = nir.Conv2d(input_shape=(9, 8), weight=weight, stride=stride, padding=padding, dilation=dilation,
                      groups=groups, bias=bias)  # fmt: skip
    expected = F.conv2d(torch.tensor(x[None]), torch.tensor(weight), torch.tensor(bias), stride=stride,
                        padding=padding, dilation=dilation, groups=groups)[0].numpy()  # fmt: skip
    np.testing.assert_allclose(apply(node, x), expected, rtol=1e-12, atol=1e-12)


def test_conv1d_is_torchs_conv1d():
    rng = np.random.default_rng(1)
    weight, bias, x = rng.normal(size=(3, 2, 4)), rng.normal(size=3), rng.normal(size=(2, 11))
    node = nir.Conv1d(input_shape=11, weight=weight, stride=2, padding=1, dilation=1, groups=1, bias=bias)
    expected = F.conv1d(torch.tensor(x[None]), torch.tensor(weight), torch.tensor(bias), stride=2, padding=1)[
        0
    ]
    np.testing.assert_allclose(apply(node, x), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_pools_are_torchs(kernel, stride, padding):
    x = np.random.default_rng(2).normal(size=(3, 8, 7))
    size = np.array([kernel, kernel])
    average = F.avg_pool2d(torch.tensor(x[None]), kernel, stride, padding)[0].numpy()  # zeros counted
    node = nir.AvgPool2d(kernel_size=size, stride=np.array([stride] * 2), padding=np.array([padding] * 2))
    np.testing.assert_allclose(apply(node, x), average, rtol=1e-12, atol=1e-12)
    node = nir.SumPool2d(kernel_size=size, stride=np.array([stride] * 2), padding=np.array([padding] * 2))
    np.testing.assert_allclose(apply(node, x), average * kernel * kernel, rtol=1e-12, atol=1e-12)


def test_a_chain_is_one_map():
    rng = np.random.default_rng(3)
    conv = nir.Conv2d(input_shape=(6, 6), weight=rng.normal(size=(2, 1, 3, 3)), stride=1, padding=1,
                      dilation=1, groups=1, bias=rng.normal(size=2))  # fmt: skip
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    flat = nir.Flatten(input_type={"input": np.array([2, 3, 3])})
    dense = nir.Affine(weight=rng.normal(size=(5, 18)), bias=rng.normal(size=5))
    x = rng.normal(size=(1, 6, 6))
    steps, y = [], x
    for node in (conv, pool, flat, dense):  # one node at a time, and the chain as one map
        matrix, bias, _ = operator(node, y.shape)
        steps.append((matrix, bias))
        y = apply(node, y)
    matrix, bias = compose(steps)
    np.testing.assert_allclose(matrix @ x.ravel() + bias, y.ravel(), rtol=1e-12)


def test_a_spiking_cnn_graph_runs_as_the_same_network_written_in_torch():
    # Conv2d -> LIF (4x6x6) -> SumPool2d -> Flatten -> Affine -> LIF (5), as Sinabs writes the
    # NIR paper's CNN (with LIF for IF); the reference is the same network stepped in torch the
    # way snnTorch runs it (forward Euler, a layer sees its inputs' spikes of the same step,
    # reset to zero), using torch's own conv2d and pooling, not this package's maps
    from hardware.nir import run_graph

    dt, tau, steps = 1e-4, 0.02, 400
    rng = np.random.default_rng(4)
    conv_w, conv_b = rng.uniform(-0.5, 1.5, size=(4, 1, 3, 3)), rng.uniform(0, 0.02, size=4)
    dense_w, dense_b = rng.uniform(-0.1, 0.15, size=(5, 36)), rng.uniform(0, 0.01, size=5)

    def lif(shape):
        return nir.LIF(tau=np.full(shape, tau), r=np.full(shape, tau / dt), v_leak=np.zeros(shape),
                       v_threshold=np.ones(shape), v_reset=np.zeros(shape))  # fmt: skip

    nodes = {
        "input": nir.Input(input_type={"input": np.array([1, 6, 6])}),
        "conv": nir.Conv2d(
            input_shape=(6, 6), weight=conv_w, stride=1, padding=1, dilation=1, groups=1, bias=conv_b
        ),
        "lif1": lif((4, 6, 6)),
        "pool": nir.SumPool2d(
            kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])
        ),
        "flat": nir.Flatten(input_type={"input": np.array([4, 3, 3])}),
        "fc": nir.Affine(weight=dense_w, bias=dense_b),
        "lif2": lif((5,)),
        "output": nir.Output(output_type={"output": np.array([5])}),
        "hidden": nir.Output(output_type={"output": np.array([4, 6, 6])}),
    }
    chain = ["input", "conv", "lif1", "pool", "flat", "fc", "lif2", "output"]
    edges = [*zip(chain, chain[1:], strict=False), ("lif1", "hidden")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)
    frames = (rng.random((steps, 36)) < 0.05).astype(np.float64)
    result, report = run_graph(graph, {"input": frames}, dt=dt, conventions="snntorch")

    factor = 1 - dt / tau
    drive = dt / tau * (tau / dt)  # (dt / tau) r: what a unit input (a spike of one step) adds
    v1, v2 = torch.zeros(1, 4, 6, 6, dtype=torch.float64), torch.zeros(1, 5, dtype=torch.float64)
    expected = {"lif1": [], "lif2": []}
    conv_w_t, conv_b_t = torch.tensor(conv_w), torch.tensor(conv_b)
    for t in range(steps):
        x = torch.tensor(frames[t].reshape(1, 1, 6, 6))
        v1 = factor * v1 + drive * F.conv2d(x, conv_w_t, conv_b_t, padding=1)
        z1 = (v1 > 1.0).double()
        v1 = v1 * (1 - z1)
        pooled = F.avg_pool2d(z1, 2) * 4
        v2 = factor * v2 + drive * (pooled.flatten(1) @ torch.tensor(dense_w).T + torch.tensor(dense_b))
        z2 = (v2 > 1.0).double()
        v2 = v2 * (1 - z2)
        expected["lif1"].append(z1.flatten().numpy())
        expected["lif2"].append(z2.flatten().numpy())
    assert report.step_offsets["lif1"] == 1 and report.step_offsets["lif2"] == 2
    for layer, trains in expected.items():
        trains = np.stack(trains)
        times, ids = result.spikes[layer]
        ours = np.zeros_like(trains)
        ours[np.rint(times / dt).astype(int), ids] = 1
        assert 0.01 * trains.size < trains.sum() < 0.5 * trains.size, layer
        np.testing.assert_array_equal(ours, trains)
