"""The PyTorch bridge (spiking layers, ANN baselines, conversion): see issue 5. Empty for now."""
