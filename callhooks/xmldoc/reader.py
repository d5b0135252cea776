"""Document text back into verbs, with a parser that cannot be made to do much work.

expat, with every way into entity expansion closed: a document type declaration is refused at its first
byte (so no entity is ever declared, internal or external), parameter entities are never parsed, and an
external entity reference is refused. Documents over the dialect's cap are refused before parsing, and the
structure is checked at each start tag, so nothing the dialect does not nest is ever built.
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

from .model import Attribute, Dialect, DocumentError, Verb, attributes_of, build, cannot_hold, reachable, text_of

__all__ = ["Revise", "Warn", "read"]

_INTEGER = re.compile(r"-?[0-9]{1,9}")
_DECIMAL = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,20})?")  # what str() writes of a float in range
_BOOLEANS = {"true": True, "false": False}

Warn = Callable[[str], None]
#: A dialect's hook on each start tag, before the element is looked up: it may refuse a legacy form (raising
#: :class:`DocumentError`), rewrite the attributes in place, and return a warning to give.
Revise = Callable[[str, dict[str, str]], str | None]


@dataclass(frozen=True)
class _Grammar:
    dialect: Dialect
    classes: dict[str, type[Verb]]
    roots: tuple[type[Verb], ...]
    revise: Revise | None


def read(
    text: str | bytes,
    *,
    dialect: Dialect,
    roots: tuple[type[Verb], ...],
    base_url: str | None = None,
    on_warning: Warn | None = None,
    revise: Revise | None = None,
) -> Verb:
    """Read a document into the verbs ``roots`` may hold, its root one of them; raises the dialect's error.

    Relative URLs are kept unless ``base_url`` (the URL that served the document) is given: then they are
    resolved against it, with a warning. Unknown attributes are warnings. Warnings go to ``on_warning`` when given,
    else to :func:`warnings.warn` as the dialect's warning type.
    """
    grammar = _Grammar(dialect, {cls.__name__: cls for cls in reachable(*roots)}, roots, revise)
    # Text is parsed as the UTF-8 it is encoded to, whatever its declaration says (as pyexpat does with a str).
    reader = _Reader(grammar, base_url, encoding="UTF-8" if isinstance(text, str) else None)
    try:
        reader.parser.Parse(_bounded_bytes(text, dialect), True)
    except expat.ExpatError as error:
        raise dialect.error(
            f"not well-formed XML: {expat.ErrorString(error.code)}", line=error.lineno, column=error.offset + 1
        ) from None
    except DocumentError as error:
        raise dialect.adopt(error) from None
    except (LookupError, UnicodeError, ValueError) as error:
        # expat asks Python's codecs for any encoding it does not know itself (encoding="U", "rot13", "utf-7"...)
        raise dialect.error(f"cannot read the document in the encoding its declaration names: {error}") from None
    assert reader.document is not None  # expat reports a document without a root element
    for message in reader.warnings:
        if on_warning is None:
            warnings.warn(message, dialect.warning, stacklevel=3)
        else:
            on_warning(message)
    return reader.document


def _bounded_bytes(text: str | bytes, dialect: Dialect) -> bytes:
    """The document's bytes, if it is within the platform's size limit."""
    limit = f"over the platform's limit of {dialect.max_bytes} ({dialect.limit})"
    if isinstance(text, str):
        if len(text) > dialect.max_bytes:  # no need to encode it all to know
            raise dialect.error(f"the document is {len(text)} characters, {limit}")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as error:
            line = text.count("\n", 0, error.start) + 1
            column = error.start - text.rfind("\n", 0, error.start)
            bad = f"U+{ord(text[error.start]):04X}"
            raise dialect.error(f"{bad} is not a character (a lone surrogate)", line=line, column=column) from None
    else:
        data = text
    if len(data) > dialect.max_bytes:
        raise dialect.error(f"the document is {len(data)} bytes, {limit}")
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
    def __init__(self, grammar: _Grammar, base_url: str | None, encoding: str | None) -> None:
        self.grammar = grammar
        self.base_url = base_url
        self.warnings: list[str] = []
        self.open: list[_Open] = []
        self.document: Verb | None = None
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
        raise self.grammar.dialect.error(reason, verb=verb, line=line, column=column)

    def _refuse_doctype(self, *_: object) -> NoReturn:
        self._fail(f"a document type declaration (DTD) is not allowed in {self.grammar.dialect.name}")

    def _refuse_entity(self, *_: object) -> NoReturn:
        self._fail(f"entity declarations and external entities are not allowed in {self.grammar.dialect.name}")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        line, column = self._position()
        values = dict(attributes)
        if self.grammar.revise is not None:
            try:
                warning = self.grammar.revise(name, values)
            except DocumentError as error:
                raise self.grammar.dialect.adopt(error).at(line, column) from None
            if warning:
                self.warnings.append(f"line {line}, column {column}: {warning}")
        cls = self._verb_class(name)
        self.open.append(_Open(cls, self._convert(cls, values, line, column), line, column))

    def _verb_class(self, name: str) -> type[Verb]:
        cls = self.grammar.classes.get(name)
        if cls is None:
            self._fail(f"unknown verb {name!r}")
        if not self.open:
            if cls not in self.grammar.roots:
                roots = " or ".join(root.__name__ for root in self.grammar.roots)
                self._fail(f"the root element must be {roots}, not {name}")
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
        kinds = attribute.kinds
        if bool in kinds and (value.casefold() in _BOOLEANS or kinds == (bool,)):
            if value.casefold() not in _BOOLEANS:
                self._fail(f"{attribute.name} must be true or false, got {value!r}", verb)
            return _BOOLEANS[value.casefold()]
        if int in kinds and (_INTEGER.fullmatch(value) or str not in kinds):
            if not (_INTEGER.fullmatch(value) or (float in kinds and _DECIMAL.fullmatch(value))):
                self._fail(f"{attribute.name} must be a whole number, got {value!r}", verb)
            return int(value) if _INTEGER.fullmatch(value) else float(value)
        if float in kinds and (_DECIMAL.fullmatch(value) or str not in kinds):
            if not _DECIMAL.fullmatch(value):
                self._fail(f"{attribute.name} must be a number, got {value!r}", verb)
            return float(value)
        return self._url(verb, attribute.name, value) if attribute.url else value

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
        text_field = text_of(element.cls)
        try:
            if text_field is None and text.strip(" \t\r\n"):
                raise self.grammar.dialect.error(f"holds no text, found {text.strip()[:40]!r}", verb=verb_name)
            if text_field is not None and text_field.url:
                text = self._url(verb_name, "URL", text)
            kept = text if text_field is not None and (text_field.required or text.strip(" \t\r\n")) else None
            verb = build(element.cls, kept, tuple(element.verbs), element.attributes)
            missing = verb._missing()
            if missing:
                raise self.grammar.dialect.error(missing[1], verb=verb_name)
        except DocumentError as error:
            raise self.grammar.dialect.adopt(error).at(element.line, element.column) from None
        if self.open:
            self.open[-1].verbs.append(verb)
        else:
            self.document = verb
