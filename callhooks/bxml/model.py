"""What every BXML verb shares: the error type, the limits, the value checks and the attribute table.

A verb is a frozen dataclass whose class name is the element name. Its fields are, in order, the optional text
(``_text_field`` names it), the nested verbs (a field called ``verbs``) and the attributes; an attribute's XML
name is the camelCase of its field name (``request_url`` -> ``requestUrl``), which is exactly the platform's
spelling for every GA verb. The writer and the reader work from this table, so no verb is spelled twice.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_TAG",
    "Attribute",
    "BXMLError",
    "BXMLWarning",
    "Verb",
    "attributes_of",
    "build",
    "cannot_hold",
    "check_absolute_url",
    "check_choice",
    "check_range",
    "check_text",
    "is_url_field",
    "xml_name",
]

MAX_DOCUMENT_BYTES = 16 * 1024  # "max 16 KB" [AP bxml/bxml.md], counted in UTF-8 bytes
# Undocumented for BXML; the same cap as the newer API's tag (docs/platforms/catapult-bxml.md#tag-length).
MAX_TAG = 4096

# XML 1.0 "Char": anything else cannot be written in a document at all, escaped or not.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SNAKE = re.compile(r"_([a-z])")
_SPACE = re.compile(r"\s")


class BXMLError(ValueError):
    """A document or verb breaks a BXML rule; says which verb, which rule and, when parsed, where.

    ``verb`` is the element name (``None`` for document-level problems). In a parsed document, ``line`` and
    ``column`` (1-based) are where the offending element's start tag begins, or where the XML stops being
    well-formed; they are ``None`` for verbs built in code.
    """

    def __init__(self, reason: str, *, verb: str | None = None, line: int | None = None, column: int | None = None):
        self.reason = reason
        self.verb = verb
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        what = f"{verb}: " if verb else ""
        super().__init__(f"{where}{what}{reason}")

    def at(self, line: int, column: int) -> BXMLError:
        """The same error, placed at a position of a parsed document."""
        return BXMLError(self.reason, verb=self.verb, line=line, column=column)


class BXMLWarning(UserWarning):
    """Something in a parsed document the platform ignores (an unknown attribute, a legacy spelling)."""


def xml_name(field_name: str) -> str:
    """``request_url`` -> ``requestUrl``."""
    return _SNAKE.sub(lambda match: match[1].upper(), field_name)


@dataclass(frozen=True)
class Attribute:
    """One attribute of a verb: its field, its XML name and the Python type its value has (str, int or bool)."""

    field: str
    name: str
    kind: type
    required: bool


_TABLES: dict[type[Verb], tuple[Attribute, ...]] = {}


def attributes_of(cls: type[Verb]) -> tuple[Attribute, ...]:
    """The attributes of a verb class, in the order they are written."""
    table = _TABLES.get(cls)
    if table is None:
        table = _TABLES[cls] = _attribute_table(cls)
    return table


def _attribute_table(cls: type[Verb]) -> tuple[Attribute, ...]:
    hints = typing.get_type_hints(cls)
    table = []
    for field in dataclasses.fields(cls):
        if field.name in ("verbs", cls._text_field) or field.name.startswith("_"):
            continue
        hint = hints[field.name]
        options = (hint, *typing.get_args(hint))  # int | None, or Literal["wav", "mp3"] | None
        kind = str if _is_str_literal(options) else next(option for option in (bool, int, str) if option in options)
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        table.append(Attribute(field.name, xml_name(field.name), kind, required))
    return tuple(table)


def _is_str_literal(options: tuple[Any, ...]) -> bool:
    return any(typing.get_origin(option) is typing.Literal for option in options)


@dataclass(frozen=True)
class Verb:
    """Base of the verbs: checks the Python types of its values, then the verb's own rules."""

    _text_field: ClassVar[str | None] = None
    holds: ClassVar[tuple[type[Verb], ...]] = ()  # the verbs this one may nest

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self._text_field is not None:
            text = getattr(self, self._text_field)
            if not isinstance(text, str):
                raise TypeError(f"{name}: the {self._text_field} must be a str, got {type(text).__name__}")
            # Documents wrap text across lines; the platform's own examples do
            # (docs/platforms/catapult-bxml.md#whitespace).
            object.__setattr__(self, self._text_field, check_text(name, self._text_field, text.strip(" \t\r\n")))
            if not getattr(self, self._text_field):
                raise BXMLError(f"the {self._text_field} is empty", verb=name)
        for attribute in attributes_of(type(self)):
            value = getattr(self, attribute.field)
            if value is None:
                continue
            if not isinstance(value, attribute.kind) or (attribute.kind is int and isinstance(value, bool)):
                raise TypeError(
                    f"{name}: {attribute.field} ({attribute.name}) must be {attribute.kind.__name__}, "
                    f"got {type(value).__name__}"
                )
            if isinstance(value, str):
                check_text(name, attribute.name, value)
        self._validate()

    def _validate(self) -> None:
        """The verb's own rules; raises :class:`BXMLError`."""

    def _missing(self) -> tuple[str, str] | None:
        """A required URL left for the receiver to fill, if any, as (field, rule): checked when written or read."""
        return None

    def _fillable_urls(self) -> tuple[str, ...]:
        """The fields naming URLs the receiver fills with its own when they are left out."""
        return ()

    def _with_default_url(self, url: str) -> Verb:
        """This verb with its left-out callback URLs (and those of its nested verbs) set to ``url``."""
        attributes = {attribute.field: getattr(self, attribute.field) for attribute in attributes_of(type(self))}
        for field in self._fillable_urls():
            if attributes[field] is None:
                attributes[field] = url
        verbs = tuple(verb._with_default_url(url) for verb in getattr(self, "verbs", ()))
        text = getattr(self, self._text_field) if self._text_field else None
        return build(type(self), text, verbs, attributes)


def build(cls: type[Verb], text: str | None, verbs: tuple[Verb, ...], attributes: dict[str, Any]) -> Verb:
    """A verb from its parts, whatever its shape (text, nested verbs or attributes only)."""
    if cls._text_field is not None:
        return cls(text, **attributes)  # type: ignore[call-arg]
    return cls(*verbs, **attributes)


def is_url_field(field: str) -> bool:
    """Fields whose value is a URL the platform fetches (``PlayAudio``'s text is ``url``)."""
    return field == "url" or field.endswith("_url")


def cannot_hold(container: type[Verb], what: str) -> BXMLError:
    """The error for a verb nested where the platform does not allow it."""
    kinds = ", ".join(kind.__name__ for kind in container.holds)
    return BXMLError(f"cannot hold {what}; a {container.__name__} holds {kinds}", verb=container.__name__)


def check_text(verb: str, what: str, value: str) -> str:
    found = _NOT_XML_CHAR.search(value)
    if found:
        raise BXMLError(f"{what} contains U+{ord(found[0]):04X}, which XML cannot carry", verb=verb)
    return value


def check_range(verb: str, name: str, value: int | None, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BXMLError(f"{name} must be {bounds}, got {value}", verb=verb)


def check_choice(verb: str, name: str, value: str | None, choices: typing.Iterable[str], *, fold: bool = False) -> None:
    if value is None:
        return
    allowed = tuple(choices)
    if (value.casefold() if fold else value) not in (tuple(c.casefold() for c in allowed) if fold else allowed):
        raise BXMLError(f"{name} must be one of {', '.join(allowed)}, got {value!r}", verb=verb)


def check_absolute_url(verb: str, name: str, value: str | None) -> None:
    """GA BXML wants absolute URLs (docs/platforms/catapult-bxml.md#relative-urls); the platform fetches them
    over http(s)."""
    if value is None:
        return
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or _SPACE.search(value):
        raise BXMLError(f"{name} must be an absolute http(s) URL, got {value!r}", verb=verb)
