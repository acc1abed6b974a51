"""The fused delta-LIF scan equals the generic autograd path: same spikes, same gradients."""

import pytest

torch = pytest.importorskip("torch")

import snn  # noqa: E402
from ann_bridge import scan  # noqa: E402
from ann_bridge.functional import initial_state  # noqa: E402
from ann_bridge.layers import SpikingLinear  # noqa: E402

MODELS = {
    "subtract": snn.LIF(tau_mem=20e-3, v_rest=0.0, v_reset=0.0, v_th=1.0, tau_ref=0.0, reset="subtract"),
    "value": snn.LIF(tau_mem=15e-3, v_rest=0.1, v_reset=-0.2, v_th=1.0, tau_ref=0.0),
    "if": snn.IF(capacitance=1.0, v_reset=0.0, v_th=1.0, reset="subtract"),
}


@pytest.mark.parametrize("spike_fn", ["fast_sigmoid", "triangle", "arctan"])
@pytest.mark.parametrize("model", MODELS)
def test_fused_scan_matches_generic_autograd(model, spike_fn):
    torch.manual_seed(0)
    layer = SpikingLinear(
        20,
        12,
        MODELS[model],
        snn.Delta(),
        dt=1e-3,
        spike_fn=spike_fn,
        dtype=torch.float64,
        threshold_scale=0.5,
    )
    with torch.no_grad():
        layer.weight.normal_(0.3, 0.4)
    assert scan.applies(layer.p)
    x = (torch.rand(80, 4, 20, dtype=torch.float64) < 0.2).double()
    upstream = torch.randn(80, 4, 12, dtype=torch.float64)

    fused = layer(x)
    (fused * upstream).sum().backward()
    fused_grad = layer.weight.grad.clone()
    layer.weight.grad = None
    generic = layer(x, state=initial_state(layer.model, (4, 12)))  # an explicit state takes the generic path
    (generic * upstream).sum().backward()

    assert fused.sum() > 20
    assert torch.equal(fused, generic)
    torch.testing.assert_close(fused_grad, layer.weight.grad, rtol=1e-12, atol=1e-12)


def test_numba_kernels_round_as_torch_in_float32():
    """On the CPU the fused scan runs as Numba kernels in the tensors' precision: float32
    spikes equal the generic path's exactly, gradients to float32 rounding."""
    torch.manual_seed(1)
    layer = SpikingLinear(
        30, 64, MODELS["value"], snn.Delta(), dt=1e-3, spike_fn="arctan", threshold_scale=0.5
    )
    with torch.no_grad():
        layer.weight.normal_(0.3, 0.4)
    assert scan._numba_code(torch.zeros(1), layer.spike_fn.derivative) is not None
    x = (torch.rand(200, 8, 30) < 0.2).float()
    upstream = torch.randn(200, 8, 64)
    fused = layer(x)
    (fused * upstream).sum().backward()
    fused_grad = layer.weight.grad.clone()
    layer.weight.grad = None
    generic = layer(x, state=initial_state(layer.model, (8, 64)))
    (generic * upstream).sum().backward()
    assert fused.sum() > 100
    assert torch.equal(fused, generic)
    torch.testing.assert_close(fused_grad, layer.weight.grad, rtol=1e-4, atol=1e-4)
