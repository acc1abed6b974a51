"""Where torch models and tensors live."""

from __future__ import annotations

import torch


def device() -> torch.device:
    """CUDA when a GPU is visible, else the CPU; every model and test runs on both."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
