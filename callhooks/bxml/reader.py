"""BXML text back into verbs, with a parser that cannot be made to do much work.

expat, with every way into entity expansion closed: a document type declaration is refused at its first
byte (so no entity is ever declared, internal or external), parameter entities are never parsed, and an
external entity reference is refused. Documents over 16 KB are refused before parsing, and the structure is
checked at each start tag, so nothing deeper than Response > Gather/Transfer > verb is ever built.
Every error carries the line and column (1-based) of the element, or of the byte, at fault.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit
from xml.parsers import expat

from .model import (
    MAX_DOCUMENT_BYTES,
    Attribute,
    BXMLError,
    BXMLWarning,
    Verb,
    attributes_of,
    build,
    cannot_hold,
    is_url_field,
)
from .verbs import VERBS, Pause, PlayAudio, Response

__all__ = ["parse"]

_CLASSES = {cls.__name__: cls for cls in VERBS}
# Removed before GA (docs/platforms/catapult-bxml.md#pre-ga-verbs).
_PRE_GA = frozenset({"Call", "Conference", "SendMessage", "Reject", "Media"})
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_BOOLEANS = {"true": True, "false": False}

Warn = Callable[[str], None]


def parse(text: str | bytes, *, base_url: str | None = None, on_warning: Warn | None = None) -> Response:
    """Read a BXML document into the classes of :mod:`callhooks.bxml`; raises :class:`BXMLError` saying where.

    Relative URLs are errors unless ``base_url`` (the URL that served the document) is given: then they are
    resolved against it, with a warning. Unknown attributes and the pre-GA ``Pause duration`` are warnings;
    the other pre-GA forms (``Call``, ``Conference``, ``SendMessage``, ``PlayAudio digits``...) are errors.
    Warnings go to ``on_warning`` when given, else to :func:`warnings.warn` as :class:`BXMLWarning`.
    """
    # Text is parsed as the UTF-8 it is encoded to, whatever its declaration says (as pyexpat does with a str).
    reader = _Reader(base_url, encoding="UTF-8" if isinstance(text, str) else None)
    try:
        reader.parser.Parse(_bounded_bytes(text), True)
    except expat.ExpatError as error:
        raise BXMLError(
            f"not well-formed XML: {expat.ErrorString(error.code)}", line=error.lineno, column=error.offset + 1
        ) from None
    except BXMLError:
        raise
    except (LookupError, UnicodeError, ValueError) as error:
        # expat asks Python's codecs for any encoding it does not know itself (encoding="U", "rot13", "utf-7"...)
        raise BXMLError(f"cannot read the document in the encoding its declaration names: {error}") from None
    assert reader.document is not None  # expat reports a document without a root element
    for message in reader.warnings:
        if on_warning is None:
            warnings.warn(message, BXMLWarning, stacklevel=2)
        else:
            on_warning(message)
    return reader.document


def _bounded_bytes(text: str | bytes) -> bytes:
    """The document's bytes, if it is within the platform's size limit."""
    limit = f"over the platform's limit of {MAX_DOCUMENT_BYTES} (16 KB)"
    if isinstance(text, str):
        if len(text) > MAX_DOCUMENT_BYTES:  # no need to encode it all to know
            raise BXMLError(f"the document is {len(text)} characters, {limit}")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as error:
            line = text.count("\n", 0, error.start) + 1
            column = error.start - text.rfind("\n", 0, error.start)
            bad = f"U+{ord(text[error.start]):04X}"
            raise BXMLError(f"{bad} is not a character (a lone surrogate)", line=line, column=column) from None
    else:
        data = text
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BXMLError(f"the document is {len(data)} bytes, {limit}")
    return data


@dataclass
class _Open:
    """An element whose end tag has not been read yet."""

    cls: type[Verb]
    attributes: dict[str, Any]
    line: int
    column: int
    text: list[str] = field(default_factory=list)
    verbs: list[Verb] = field(default_factory=list)


class _Reader:
    def __init__(self, base_url: str | None, encoding: str | None) -> None:
        self.base_url = base_url
        self.warnings: list[str] = []
        self.open: list[_Open] = []
        self.document: Response | None = None
        parser = expat.ParserCreate(encoding)
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.UnparsedEntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser

    def _position(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _fail(self, reason: str, verb: str | None = None) -> NoReturn:
        line, column = self._position()
        raise BXMLError(reason, verb=verb, line=line, column=column)

    def _refuse_doctype(self, *_: object) -> NoReturn:
        self._fail("a document type declaration (DTD) is not allowed in BXML")

    def _refuse_entity(self, *_: object) -> NoReturn:
        self._fail("entity declarations and external entities are not allowed in BXML")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        line, column = self._position()
        cls = self._verb_class(name)
        values = dict(attributes)
        if cls is PlayAudio and "digits" in values:  # dropped at GA, and would change what the call does
            self._fail("digits is a pre-GA attribute, not part of GA Catapult BXML", "PlayAudio")
        if cls is Pause and "duration" in values and "length" not in values:
            self.warnings.append(f"line {line}, column {column}: Pause: duration is the pre-GA spelling of length")
            values["length"] = values.pop("duration")
        self.open.append(_Open(cls, self._convert(cls, values, line, column), line, column))

    def _verb_class(self, name: str) -> type[Verb]:
        if name in _PRE_GA:
            self._fail(f"{name} is a pre-GA verb, not part of GA Catapult BXML")
        cls = _CLASSES.get(name)
        if cls is None:
            self._fail(f"unknown verb {name!r}")
        if not self.open:
            if cls is not Response:
                self._fail(f"the root element must be Response, not {name}")
        elif not issubclass(cls, self.open[-1].cls.holds):
            parent = self.open[-1].cls
            if parent.holds:
                raise cannot_hold(parent, name).at(*self._position())
            self._fail(f"holds {'only text' if parent._text_field else 'nothing'}, not {name}", parent.__name__)
        return cls

    def _convert(self, cls: type[Verb], values: dict[str, str], line: int, column: int) -> dict[str, Any]:
        """The keyword arguments for ``cls`` from the element's attributes."""
        verb = cls.__name__
        table = {attribute.name: attribute for attribute in attributes_of(cls)}
        arguments: dict[str, Any] = {}
        for name, value in values.items():
            attribute = table.get(name)
            if attribute is None:
                self.warnings.append(f"line {line}, column {column}: {verb}: unknown attribute {name!r} ignored")
                continue
            arguments[attribute.field] = self._value(verb, attribute, value)
        for attribute in table.values():
            if attribute.required and attribute.field not in arguments:
                self._fail(f"{attribute.name} is required", verb)
        return arguments

    def _value(self, verb: str, attribute: Attribute, value: str) -> Any:
        if attribute.kind is bool:
            if value.casefold() not in _BOOLEANS:
                self._fail(f"{attribute.name} must be true or false, got {value!r}", verb)
            return _BOOLEANS[value.casefold()]
        if attribute.kind is int:
            if not _INTEGER.fullmatch(value):
                self._fail(f"{attribute.name} must be a whole number, got {value!r}", verb)
            return int(value)
        return self._url(verb, attribute.name, value) if is_url_field(attribute.field) else value

    def _url(self, verb: str, name: str, value: str) -> str:
        try:
            if self.base_url is None or urlsplit(value.strip()).scheme:
                return value
            resolved = urljoin(self.base_url, value.strip())
        except ValueError:  # not a URL at all (an unclosed IPv6 bracket): the verb's own check says so
            return value
        line, column = self._position()
        self.warnings.append(f"line {line}, column {column}: {verb}: relative {name} {value!r} read as {resolved!r}")
        return resolved

    def _text(self, data: str) -> None:
        if self.open:
            self.open[-1].text.append(data)

    def _end(self, name: str) -> None:
        element = self.open.pop()
        verb_name = element.cls.__name__
        text = "".join(element.text)
        try:
            if element.cls._text_field is None and text.strip(" \t\r\n"):
                raise BXMLError(f"holds no text, found {text.strip()[:40]!r}", verb=verb_name)
            if element.cls._text_field is not None and is_url_field(element.cls._text_field):
                text = self._url(verb_name, "audio URL", text)
            verb = build(element.cls, text, tuple(element.verbs), element.attributes)
            missing = verb._missing()
            if missing:
                raise BXMLError(missing[1], verb=verb_name)
        except BXMLError as error:
            raise error.at(element.line, element.column) from None
        if self.open:
            self.open[-1].verbs.append(verb)
        else:
            assert isinstance(verb, Response)
            self.document = verb
