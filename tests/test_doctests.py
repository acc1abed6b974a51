"""Every docstring example in the packages runs, as ``--doctest-modules`` would run it.

Run through :mod:`doctest` here rather than pytest's ``--doctest-modules``: importing brian2
replaces pytest's doctest collector with one that fails on package ``__init__`` modules.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("snn", "ann_bridge", "hardware", "studies")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        found = pkgutil.walk_packages(module.__path__, prefix=f"{package}.")
        names += [info.name for info in found if not info.name.endswith(".__main__")]  # runs the CLI
    return sorted(names)


def test_the_packages_hold_docstring_examples():
    finder = doctest.DocTestFinder()
    with_examples = [
        name for name in _modules() if any(t.examples for t in finder.find(importlib.import_module(name)))
    ]
    assert {"snn.network", "snn.simulator", "hardware", "hardware.nir"} <= set(with_examples)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
