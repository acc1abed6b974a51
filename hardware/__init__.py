"""Backend adapters: one :class:`snn.Network`, many simulators and export formats.

>>> import hardware
>>> "numba" in hardware.available()
True
>>> hardware.get("numba").capabilities().exact
True

Each adapter lives in its own module and imports its simulator (brian2, nengo,
tensorflow, nir) only when it is created, so ``import hardware`` stays light.
:func:`get` of an unknown name lists the known ones; :func:`available` lists those whose
packages are installed.
"""

from __future__ import annotations

import importlib
import importlib.util

from hardware.base import Backend, Capabilities, MappingReport, with_inputs
from snn.errors import ValidationError

# name -> (module, class, options, packages it needs)
REGISTRY: dict[str, tuple[str, str, dict, tuple[str, ...]]] = {
    "numba": ("hardware.numba", "NumbaBackend", {}, ("numba",)),
    "brian2": ("hardware.brian2", "Brian2Backend", {"target": "cython"}, ("brian2",)),
    "brian2-numpy": ("hardware.brian2", "Brian2Backend", {"target": "numpy"}, ("brian2",)),
    "brian2-standalone": ("hardware.brian2", "Brian2Backend", {"target": "cpp_standalone"}, ("brian2",)),
    "nengo": ("hardware.nengo", "NengoBackend", {}, ("nengo",)),
    "nengo-dl": ("hardware.nengo_dl", "NengoDLBackend", {}, ("nengo", "nengo_dl", "tensorflow", "tf_keras")),
    "nir": ("hardware.nir", "NIRBackend", {}, ("nir",)),
}


def names() -> list[str]:
    """Every registered backend name, installed or not."""
    return list(REGISTRY)


def available() -> list[str]:
    """Backend names whose packages are installed (found, not imported)."""
    return [
        name
        for name, (_, _, _, packages) in REGISTRY.items()
        if all(importlib.util.find_spec(package) is not None for package in packages)
    ]


def get(name: str, **options) -> Backend:
    """The adapter called ``name``; ``options`` go to its constructor."""
    if name not in REGISTRY:
        raise ValidationError(
            "backend",
            f"unknown backend {name!r}; known: {', '.join(REGISTRY)} (installed: {', '.join(available())})",
        )
    module_name, class_name, defaults, packages = REGISTRY[name]
    missing = [package for package in packages if importlib.util.find_spec(package) is None]
    if missing:
        raise ValidationError(
            "backend", f"{name!r} needs {', '.join(missing)}; install with pip install -e '.[all]'"
        )
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**{**defaults, **options})


__all__ = ["Backend", "Capabilities", "MappingReport", "available", "get", "names", "with_inputs"]
