"""The PyTorch bridge: spiking layers with surrogate gradients over a functional core.

The layers integrate exactly the numbers the Numba simulator integrates (both take their
per-step constants from :func:`snn.build.neurons.discrete_parameters`), so a trained
model runs on :class:`snn.Simulator` spike for spike. Import cost: torch.
"""

from __future__ import annotations

from ann_bridge.device import device
from ann_bridge.surrogate import SURROGATES, surrogate

__all__ = ["SURROGATES", "device", "surrogate"]
