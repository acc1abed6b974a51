"""Experiments: datasets, tasks, training runs and peer references that the commands run."""
