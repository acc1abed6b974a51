"""``python -m studies.cli``: the ``snn`` command."""

from studies.cli import console

console()
