"""Learning rules: objects that hold a rule's settings, with Numba kernels that apply it online."""
