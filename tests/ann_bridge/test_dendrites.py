"""Active dendrites: the k-winner-take-all and the dendritic gate against hand computations."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from ann_bridge import device  # noqa: E402
from ann_bridge.dendrites import ActiveDendritesNetwork, dendritic_gate, kwinners  # noqa: E402


def test_kwinners_keeps_each_rows_k_largest():
    y = torch.tensor([[0.1, -2.0, 3.0, 0.5], [-1.0, -0.5, -3.0, -0.2]])
    out = kwinners(y, 2)
    assert torch.equal(out, torch.tensor([[0.0, 0.0, 3.0, 0.5], [0.0, -0.5, 0.0, -0.2]]))


def test_the_gate_is_the_sigmoid_of_the_strongest_segment():
    segments = torch.tensor([[[1.0, 0.0], [0.0, -3.0]], [[0.5, 0.5], [0.1, 0.0]]])  # 2 units x 2 segments
    context = torch.tensor([[1.0, 1.0]])
    # unit 0: responses 1 and -3 -> the strongest is -3; unit 1: 1.0 and 0.1 -> 1.0
    expected = torch.sigmoid(torch.tensor([[-3.0, 1.0]]))
    assert torch.allclose(dendritic_gate(segments, context), expected)


def test_the_context_selects_the_winners_and_gradients_reach_only_them():
    torch.manual_seed(0)
    net = ActiveDendritesNetwork(8, 64, 3, 4, segments=2, active_fraction=0.1).to(device())
    x = torch.rand(5, 8, device=device())
    a, b = torch.eye(4, device=device())[:2]
    h_a = net.first(x, a.expand(5, -1))
    h_b = net.first(x, b.expand(5, -1))
    assert int((h_a != 0).sum(dim=1).max()) == 6  # round(0.1 x 64) winners per sample
    assert not torch.equal(h_a != 0, h_b != 0)  # another context, other winners
    net(x, a.expand(5, -1)).sum().backward()
    silent = (h_a == 0).all(dim=0)  # units no sample used
    assert torch.all(net.first.linear.weight.grad[silent] == 0)
