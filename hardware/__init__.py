"""Backend adapters (Brian2, Nengo, NengoDL, NIR, fixed-point emulator): see issue 6.

Nothing is registered yet; the Numba reference simulator is :class:`snn.Simulator`.
"""
