"""``docs/backends.md``, generated from every backend's :class:`~hardware.base.Capabilities`.

Regenerate after changing a table: ``python -m hardware.capability_docs > docs/backends.md``
(``tests/hardware/test_capability_table.py`` fails while the file and the tables differ).
"""

from __future__ import annotations

import hardware

HEADER = """# What each backend runs

Generated from the backends' capability tables (`hardware.<backend>.capabilities()`), which
their pre-flight checks and mapping reports also read; do not edit by hand:
`python -m hardware.capability_docs > docs/backends.md`.
"""


def render() -> str:
    parts = [HEADER]
    for name in hardware.names():
        parts.append(hardware.get(name).capabilities().to_markdown(name))
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
