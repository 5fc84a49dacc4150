"""How pydistribution decodes untrusted JSON and reads its values: one set of rules.

Every reader of an OCI wire document (manifests, descriptors, platforms, a layout's
``index.json``) decodes with `decode()` and reads strings with
[`clean_text()`][pydistribution.descriptor.clean_text], so
the same bytes are accepted or refused the same way wherever they arrive. The rules
follow what Go's ``encoding/json`` accepts where that is safe: a duplicated key keeps its
last value and a lone UTF-16 surrogate escape becomes U+FFFD. They are stricter in a few
deliberate places: the bytes must be UTF-8 (Go silently replaces bad bytes), ``NaN`` and
``Infinity`` are refused (Python's decoder would accept them), and nesting deeper than
the interpreter's recursion limit is refused (Go allows 10 000 levels).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Final, NoReturn, TypeAlias

MAX_INT64: Final = (1 << 63) - 1
"""The largest size Go's ``int64`` fields accept."""

Report: TypeAlias = Callable[[str, str], None]
"""Receives one problem: the field path (``layers[2].size``) and the reason."""


def _reject_constant(name: str) -> NoReturn:
    # json calls this for NaN, Infinity and -Infinity, which are not JSON.
    raise ValueError(f"{name} is not a valid JSON value")


def _parse_int(text: str) -> int | float:
    # Python refuses to convert integers of more than 4300 digits; Go skips such a number
    # in an unknown field and refuses it in a known one. Infinity gives the same outcome:
    # the type checks of the known fields refuse it as "not an integer".
    return int(text) if len(text) <= 4000 else float("inf")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)


def decode(data: bytes) -> object:
    """Decode ``data`` as one JSON value under the rules of this module.

    Raises:
        ValueError: the bytes are not UTF-8, not JSON, contain ``NaN``/``Infinity``, or
            are nested too deeply; the message says which.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"payload is not valid UTF-8 at byte {exc.start}") from exc
    try:
        return _DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("JSON is nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError, NaN/Infinity, and integers over the interpreter's digit limit.
        raise ValueError(f"invalid JSON: {exc}") from exc


def kind_of(value: object) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def clean_text(value: str) -> str:
    """``value`` with lone surrogates replaced by U+FFFD, as Go's decoder does."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def string_list(value: object, where: str, report: Report) -> tuple[str, ...]:
    """An optional array of strings (``()`` when absent); ``null`` items read as ``""``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        report(where, f"expected an array of strings, found {kind_of(value)}")
        return ()
    out = []
    for i, item in enumerate(value):
        if item is None:
            out.append("")  # Go decodes null into a string as the zero value
        elif isinstance(item, str):
            out.append(clean_text(item))
        else:
            report(f"{where}[{i}]", f"expected a string, found {kind_of(item)}")
    return tuple(out)


def string_map(value: object, where: str, report: Report) -> dict[str, str]:
    """An optional object of strings (``{}`` when absent); ``null`` values read as ``""``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        report(where, f"expected an object of strings, found {kind_of(value)}")
        return {}
    out = {}
    for key, item in value.items():
        if item is None:
            out[clean_text(key)] = ""
        elif isinstance(item, str):
            out[clean_text(key)] = clean_text(item)
        else:
            report(f"{where}[{key!r}]", f"expected a string, found {kind_of(item)}")
    return out
