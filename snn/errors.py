"""Errors raised by the spiking core.

Every validation failure names the object, the field and the allowed range, so a
user reading one line knows what to change.
"""

from __future__ import annotations


class ValidationError(ValueError):
    """A model description holds a value outside its allowed range.

    Parameters
    ----------
    field:
        Dotted name of the offending field, e.g. ``"LIF.tau_mem"`` or
        ``"projections[2].weights"``.
    message:
        What is wrong and what is allowed.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def located(self, where: str) -> ValidationError:
        """The same error with its object prefix replaced by ``where`` (e.g. a TOML path)."""
        _, _, rest = self.field.partition(".")
        return ValidationError(f"{where}.{rest}" if rest else where, self.message)


class UnsupportedFeature(NotImplementedError):
    """A backend cannot express part of a network; names the part and the backend."""

    def __init__(self, feature: str, backend: str, hint: str = "") -> None:
        self.feature = feature
        self.backend = backend
        self.hint = hint
        text = f"backend {backend!r} does not support {feature}"
        super().__init__(f"{text}; {hint}" if hint else text)
