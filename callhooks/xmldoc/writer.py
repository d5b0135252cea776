"""Document text from verbs: the declaration, one element per line, two-space indents, escaped text and attributes.

Escaping follows node-bandwidth's xmlbuilder (docs/platforms/catapult-bxml.md#the-node-sdks-builder), so a value
reads back exactly: in text ``&``, ``<``, ``>`` and carriage returns are escaped; in attributes ``&``, ``<``,
``"``, tabs, line feeds and carriage returns (which a parser would otherwise fold into spaces). Booleans are
written ``true``/``false``, as every dialect spells them.
"""

from __future__ import annotations

from .model import Verb, attributes_of

__all__ = ["DECLARATION", "escape_attribute", "escape_text", "render"]

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_INDENT = "  "
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})


def escape_text(value: str) -> str:
    """Text content, escaped to read back exactly."""
    return value.translate(_TEXT)


def escape_attribute(value: str) -> str:
    """An attribute value (to go between double quotes), escaped to read back exactly."""
    return value.translate(_ATTRIBUTE)


def render(document: Verb) -> str:
    """The document's text, declaration first, without a trailing newline (as node-bandwidth writes it)."""
    lines = [DECLARATION]
    _render(document, 0, lines)
    return "\n".join(lines)


def _render(verb: Verb, depth: int, lines: list[str]) -> None:
    name = type(verb).__name__
    indent = _INDENT * depth
    attributes = "".join(
        f' {attribute.name}="{escape_attribute(_format(value))}"'
        for attribute in attributes_of(type(verb))
        if (value := getattr(verb, attribute.field)) is not None
    )
    nested: tuple[Verb, ...] = getattr(verb, "verbs", ())
    text = getattr(verb, verb._text_field) if verb._text_field is not None else None
    if text is not None:
        lines.append(f"{indent}<{name}{attributes}>{escape_text(text)}</{name}>")
    elif nested:
        lines.append(f"{indent}<{name}{attributes}>")
        for child in nested:
            _render(child, depth + 1, lines)
        lines.append(f"{indent}</{name}>")
    else:
        lines.append(f"{indent}<{name}{attributes}/>")


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
