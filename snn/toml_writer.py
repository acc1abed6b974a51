"""A small TOML writer for the network files :mod:`snn.config` reads (stdlib has a reader only).

Handles what network files hold: tables, arrays of tables, strings, booleans, integers,
floats (written with ``repr``, so they read back bit for bit, including ``inf`` and
``nan``) and (nested) arrays of those. Nested tables become ``[a.b]`` headers.
"""

from __future__ import annotations

import math
import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
ROW_ITEMS = 8  # array items per line in long arrays


def _string(text: str) -> str:
    """A TOML basic string: non-ASCII written as itself (``json.dumps`` would write non-BMP
    characters as surrogate-pair escapes, which TOML rejects), control characters escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"cannot write a lone surrogate (U+{code:04X}) to TOML")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _value(value, indent: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        items = [_value(item, indent + "  ") for item in value]
        if len(items) <= ROW_ITEMS and not any("\n" in item for item in items):
            return "[" + ", ".join(items) + "]"
        inner = indent + "  "
        if any(isinstance(item, (list, tuple)) for item in value):
            rows = [inner + item for item in items]
        else:
            rows = [inner + ", ".join(items[i : i + ROW_ITEMS]) for i in range(0, len(items), ROW_ITEMS)]
        return "[\n" + ",\n".join(rows) + ",\n" + indent + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _table(lines: list[str], path: str, table: dict, header: str | None) -> None:
    if header is not None:
        lines.append("")
        lines.append(header)
    for name, value in table.items():
        if value is None or isinstance(value, dict) or _is_table_array(value):
            continue
        lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in table.items():
        child = f"{path}.{_key(name)}" if path else _key(name)
        if isinstance(value, dict):
            _table(lines, child, value, f"[{child}]")
        elif _is_table_array(value):
            for item in value:
                _table(lines, child, item, f"[[{child}]]")


def dumps(data: dict) -> str:
    """``data`` as TOML text; ``None`` values are left out (TOML has no null)."""
    lines: list[str] = []
    _table(lines, "", data, None)
    return "\n".join(lines).lstrip("\n") + "\n"
