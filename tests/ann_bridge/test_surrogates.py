"""Each surrogate's backward pass is the derivative of its smooth stand-in (finite differences)."""

import pytest

torch = pytest.importorskip("torch")

from ann_bridge.surrogate import DEFAULT_SCALES, STAND_INS, SURROGATES, surrogate  # noqa: E402
from snn.errors import ValidationError  # noqa: E402


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogate_gradient_matches_finite_differences_of_stand_in(name):
    scale = DEFAULT_SCALES[name]
    x = torch.linspace(-2.0, 2.0, 401, dtype=torch.float64, requires_grad=True)
    spikes = surrogate(name)(x)
    assert torch.equal(spikes, (x > 0).to(x.dtype))  # forward is the Heaviside step
    (grad,) = torch.autograd.grad(spikes.sum(), x)
    h = 1e-6
    with torch.no_grad():
        stand_in = STAND_INS[name]
        numeric = (stand_in(x + h, scale) - stand_in(x - h, scale)) / (2 * h)
    # away from kinks (|x| = 0 for fast_sigmoid, |x| = 1 for triangle) central differences are exact to O(h^2)
    smooth = (x.detach().abs() > 2 * h) & ((x.detach().abs() - 1).abs() > 2 * h)
    torch.testing.assert_close(grad[smooth], numeric[smooth], rtol=1e-6, atol=1e-9)
    assert grad.max() > 0


def test_unknown_surrogate_is_a_clear_error():
    with pytest.raises(ValidationError, match="surrogate"):
        surrogate("sigmoidal")
    with pytest.raises(ValidationError, match="scale"):
        surrogate("arctan", scale=-1.0)
