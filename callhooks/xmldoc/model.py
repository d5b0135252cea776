"""What every call-control dialect shares: the errors, the verb base, its attribute table and the value checks.

A verb is a frozen dataclass whose class name is the element name. Its fields are the optional text (the class's
``_text_field`` names it), the nested verbs (a field called ``verbs``) and the attributes. An attribute's XML name
is the camelCase of its field name without outer underscores (``request_url`` -> ``requestUrl``, ``_from`` ->
``from``), which is each platform's spelling and the one its vendor's SDK derives from the same snake_case
keyword. A field annotated :data:`Url` or :data:`Callback` holds a URL the platform fetches; a :data:`Callback`
is where it sends this verb's own event, which the receiver fills with its signed URL when left out. The writer
and the reader work from this table, so no dialect spells a verb twice.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

__all__ = [
    "Attribute",
    "Callback",
    "Dialect",
    "DocumentError",
    "DocumentWarning",
    "Filler",
    "Method",
    "RelativeUrlsVerb",
    "Url",
    "Verb",
    "attributes_of",
    "build",
    "cannot_hold",
    "check_absolute_url",
    "check_choice",
    "check_length",
    "check_range",
    "check_references",
    "check_text",
    "check_url",
    "nest",
    "reachable",
    "text_of",
    "url_attributes",
    "xml_name",
]

# XML 1.0 "Char": anything else cannot be written in a document at all, escaped or not.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SNAKE = re.compile(r"_([a-z])")
_SPACE = re.compile(r"\s")
_KINDS = (bool, int, float, str)  # what an attribute's value may be, in the order a parsed value is tried


class DocumentError(ValueError):
    """A document or verb breaks a rule of its dialect; says which verb, which rule and, when parsed, where.

    ``verb`` is the element name (``None`` for document-level problems). In a parsed document, ``line`` and
    ``column`` (1-based) are where the offending element's start tag begins, or where the XML stops being
    well-formed; they are ``None`` for verbs built in code. Each dialect raises its own subclass.
    """

    def __init__(self, reason: str, *, verb: str | None = None, line: int | None = None, column: int | None = None):
        self.reason = reason
        self.verb = verb
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        what = f"{verb}: " if verb else ""
        super().__init__(f"{where}{what}{reason}")

    def at(self, line: int, column: int) -> DocumentError:
        """The same error, placed at a position of a parsed document."""
        return type(self)(self.reason, verb=self.verb, line=line, column=column)


class DocumentWarning(UserWarning):
    """Something in a parsed document the platform ignores (an unknown attribute, a legacy spelling)."""


@dataclass(frozen=True)
class Dialect:
    """A platform's document rules that are not verbs: its name in messages, its error types and its size cap."""

    name: str
    error: type[DocumentError]
    warning: type[DocumentWarning]
    max_bytes: int

    @property
    def limit(self) -> str:
        """``16 KB``, as the platform's documentation writes its limit."""
        return f"{self.max_bytes // 1024} KB"

    def adopt(self, error: DocumentError) -> DocumentError:
        """``error`` as this dialect's error type (the shared checks raise the base type)."""
        if isinstance(error, self.error):
            return error
        return self.error(error.reason, verb=error.verb, line=error.line, column=error.column)


class _UrlMark:
    """Marks a ``str`` field as a URL the platform fetches; ``callback`` when it is where this verb's event goes."""

    def __init__(self, callback: bool) -> None:
        self.callback = callback


Method = Literal["GET", "POST"]  # how a platform may call a URL (each dialect's *Method attributes)
Url = Annotated[str, _UrlMark(callback=False)]
Callback = Annotated[str, _UrlMark(callback=True)]
#: What fills a document's left-out attributes (``Document.with_default_urls``): given a verb and the name of a
#: field it left out, the value to give it, or None to leave it out.
Filler = Callable[["Verb", str], Any]


def xml_name(field_name: str) -> str:
    """``request_url`` -> ``requestUrl``; ``_from`` -> ``from``."""
    return _SNAKE.sub(lambda match: match[1].upper(), field_name.strip("_"))


@dataclass(frozen=True)
class Attribute:
    """One attribute (or the text) of a verb: its field, XML name, the Python types its value may have, and whether
    it is required, a URL, and a callback URL the receiver fills."""

    field: str
    name: str
    kinds: tuple[type, ...]
    required: bool
    url: bool = False
    callback: bool = False
    choices: tuple[str, ...] = ()  # the values a Literal annotation allows; any when empty

    @property
    def kind_names(self) -> str:
        """``int``, or ``int or str``."""
        return " or ".join(kind.__name__ for kind in self.kinds)


_TABLES: dict[type[Verb], tuple[tuple[Attribute, ...], Attribute | None]] = {}


def attributes_of(cls: type[Verb]) -> tuple[Attribute, ...]:
    """The attributes of a verb class, in the order they are written."""
    return _table(cls)[0]


def text_of(cls: type[Verb]) -> Attribute | None:
    """The verb's text as an :class:`Attribute` (its ``name`` is ``text``), or ``None`` if it holds no text."""
    return _table(cls)[1]


def url_attributes(cls: type[Verb]) -> tuple[Attribute, ...]:
    """Every URL a verb class may carry, its text first when that is a URL."""
    text = text_of(cls)
    return tuple(attribute for attribute in (text, *attributes_of(cls)) if attribute is not None and attribute.url)


def _table(cls: type[Verb]) -> tuple[tuple[Attribute, ...], Attribute | None]:
    table = _TABLES.get(cls)
    if table is None:
        table = _TABLES[cls] = _attribute_table(cls)
    return table


def _attribute_table(cls: type[Verb]) -> tuple[tuple[Attribute, ...], Attribute | None]:
    hints = typing.get_type_hints(cls, include_extras=True)
    table = []
    text = None
    for field in dataclasses.fields(cls):
        if field.name == "verbs":
            continue
        options = _options(hints[field.name])
        metadata = [mark for option in options for mark in getattr(option, "__metadata__", ())]
        marks = [mark for mark in metadata if isinstance(mark, _UrlMark)]
        kinds = tuple(
            kind
            for kind in _KINDS
            if kind in options
            or (kind is str and any(map(_is_str_literal, options)))
            or (kind is int and float in options)  # as for mypy, an int is a float
        )
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        name = "text" if field.name == cls._text_field else xml_name(field.name)
        literals = tuple(arg for option in options if _is_str_literal(option) for arg in typing.get_args(option))
        callback = any(mark.callback for mark in marks)
        attribute = Attribute(field.name, name, kinds, required, bool(marks), callback, literals)
        if field.name == cls._text_field:
            text = attribute
        else:
            table.append(attribute)
    return tuple(table), text


def _options(hint: Any) -> tuple[Any, ...]:
    """The members of a union (``int | None``), each Annotated member kept whole and its base added."""
    found: list[Any] = []
    for option in typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,):
        found.append(option)
        if typing.get_origin(option) is Annotated:
            found.append(typing.get_args(option)[0])
    return tuple(found)


_UnionType = type(int | None)


def _is_str_literal(option: Any) -> bool:
    return typing.get_origin(option) is typing.Literal and all(isinstance(arg, str) for arg in typing.get_args(option))


@dataclass(frozen=True)
class Verb:
    """Base of the verbs: checks the Python types of its values, then the verb's own rules."""

    dialect: ClassVar[Dialect]
    _text_field: ClassVar[str | None] = None
    holds: ClassVar[tuple[type[Verb], ...]] = ()  # the verbs this one may nest
    _websockets: ClassVar[frozenset[str]] = frozenset()  # URL fields that must be absolute wss:// URLs

    def __post_init__(self) -> None:
        try:
            self._check_values()
            self._validate()
        except DocumentError as error:
            raise self.dialect.adopt(error) from None

    def _check_values(self) -> None:
        name = type(self).__name__
        text = text_of(type(self))
        if text is not None:
            value = getattr(self, text.field)
            if value is not None or text.required:
                if not isinstance(value, str):
                    raise TypeError(f"{name}: the {text.field} must be a str, got {type(value).__name__}")
                # Documents wrap text across lines; the platforms' own examples do.
                value = check_text(name, text.field, value.strip(" \t\r\n"))
                if not value and text.required:
                    raise DocumentError(f"the {text.field} is empty", verb=name)
                object.__setattr__(self, text.field, value or None)
        for attribute in attributes_of(type(self)):
            value = getattr(self, attribute.field)
            if value is None:
                continue
            if not isinstance(value, attribute.kinds) or (isinstance(value, bool) and bool not in attribute.kinds):
                raise TypeError(
                    f"{name}: {attribute.field} ({attribute.name}) must be {attribute.kind_names}, "
                    f"got {type(value).__name__}"
                )
            if isinstance(value, str):
                check_text(name, attribute.name, value)
                if attribute.choices:
                    check_choice(name, attribute.name, value, attribute.choices)

    def _validate(self) -> None:
        """The verb's own rules; raises :class:`DocumentError`."""

    def _missing(self) -> tuple[str, str] | None:
        """A required URL left for the receiver to fill, if any, as (field, rule): checked when written or read."""
        return None

    def _fillable_urls(self) -> tuple[str, ...]:
        """The fields naming URLs the receiver fills with its own when they are left out: the callback URLs."""
        return tuple(attribute.field for attribute in attributes_of(type(self)) if attribute.callback)

    def _with_default_url(self, url: str | Filler) -> Verb:
        """This verb with its left-out callback URLs (and those of its nested verbs) set to ``url``; or, with a
        ``Filler``, each attribute left out set to what it answers for this verb and field (None: left out)."""
        attributes = {attribute.field: getattr(self, attribute.field) for attribute in attributes_of(type(self))}
        if isinstance(url, str):
            for field in self._fillable_urls():
                if attributes[field] is None:
                    attributes[field] = url
        else:
            for field, value in list(attributes.items()):
                if value is None:
                    attributes[field] = url(self, field)
        verbs = tuple(verb._with_default_url(url) for verb in getattr(self, "verbs", ()))
        text = getattr(self, self._text_field) if self._text_field else None
        return build(type(self), text, verbs, attributes)


def reachable(*roots: type[Verb]) -> tuple[type[Verb], ...]:
    """The roots and every verb they may nest, at any depth, each once: a dialect's vocabulary."""
    found: dict[type[Verb], None] = {}
    pending = list(roots)
    while pending:
        cls = pending.pop(0)
        if cls not in found:
            found[cls] = None
            pending.extend(cls.holds)
    return tuple(found)


def check_references(verb: Verb) -> None:
    """Every URL attribute of ``verb`` is absolute http(s) or relative to the document's URL, and each of its
    ``_websockets`` fields an absolute wss:// URL: the rule of the dialects that resolve relative URLs."""
    name = type(verb).__name__
    for attribute in attributes_of(type(verb)):
        if attribute.field in verb._websockets:
            check_url(name, attribute.name, getattr(verb, attribute.field), schemes=("wss",), relative=False)
        elif attribute.url:
            check_url(name, attribute.name, getattr(verb, attribute.field))


@dataclass(frozen=True)
class RelativeUrlsVerb(Verb):
    """Base of the verbs of dialects that resolve relative URLs: :func:`check_references`, then ``_rules``."""

    def _validate(self) -> None:
        check_references(self)
        self._rules()

    def _rules(self) -> None:
        """The verb's own rules; raises :class:`DocumentError`."""


def build(cls: type[Verb], text: str | None, verbs: tuple[Verb, ...], attributes: dict[str, Any]) -> Verb:
    """A verb from its parts, whatever its shape (text, nested verbs, both, or attributes only)."""
    if cls.holds:  # containers take their text (if any) and nested verbs positionally
        return cls(*((text,) if text is not None else ()), *verbs, **attributes)
    if cls._text_field is not None:
        return cls(text, **attributes)  # type: ignore[call-arg]
    return cls(**attributes)


def nest(container: Verb, parts: tuple[Verb | str, ...], arguments: dict[str, Any]) -> None:
    """Set a container's fields from its ``__init__``'s arguments (``locals()``), then check them.

    Containers take their nested verbs positionally, which a dataclass ``__init__`` cannot do; a container that
    may hold text instead (TwiML's ``Dial("+1...")``) takes it as its one positional ``str``.
    """
    texts = [part for part in parts if isinstance(part, str)] if container._text_field is not None else []
    verbs = tuple(part for part in parts if not isinstance(part, str) or container._text_field is None)
    if len(texts) > 1 or (texts and verbs):
        name = type(container).__name__
        raise container.dialect.error("holds either one text or nested verbs, not both", verb=name)
    text = texts[0] if texts else None
    for verb in verbs:
        if not isinstance(verb, container.holds):
            what = type(verb).__name__ if isinstance(verb, Verb) else f"a {type(verb).__name__}"
            raise cannot_hold(type(container), what)
    object.__setattr__(container, "verbs", verbs)
    if container._text_field is not None:
        object.__setattr__(container, container._text_field, text)
    for attribute in attributes_of(type(container)):
        object.__setattr__(container, attribute.field, arguments[attribute.field])
    container.__post_init__()


def cannot_hold(container: type[Verb], what: str) -> DocumentError:
    """The error for a verb nested where the platform does not allow it."""
    kinds = ", ".join(kind.__name__ for kind in container.holds) or "nothing"
    return container.dialect.error(f"cannot hold {what}; a {container.__name__} holds {kinds}", verb=container.__name__)


def check_text(verb: str, what: str, value: str) -> str:
    """``value``, if XML can carry every character of it."""
    found = _NOT_XML_CHAR.search(value)
    if found:
        raise DocumentError(f"{what} contains U+{ord(found[0]):04X}, which XML cannot carry", verb=verb)
    return value


def check_range(verb: str, name: str, value: float | None, low: float, high: float | None = None) -> None:
    """``value`` is within ``low``..``high`` (no upper bound when ``high`` is ``None``)."""
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise DocumentError(f"{name} must be {bounds}, got {value}", verb=verb)


def check_length(verb: str, name: str, value: str | None, high: int, *, controls: bool = True) -> None:
    """``value`` has at most ``high`` characters (and, with ``controls=False``, no control characters)."""
    if value is None:
        return
    if len(value) > high:
        raise DocumentError(f"{name} is {len(value)} characters, over the {high} allowed", verb=verb)
    if not controls and _CONTROL.search(value):
        raise DocumentError(f"{name} must not contain control characters, got {value!r}", verb=verb)


def check_choice(verb: str, name: str, value: str | None, choices: Iterable[str], *, fold: bool = False) -> None:
    """``value`` is one of ``choices`` (ignoring case with ``fold``)."""
    if value is None:
        return
    allowed = tuple(choices)
    if (value.casefold() if fold else value) not in (tuple(c.casefold() for c in allowed) if fold else allowed):
        raise DocumentError(f"{name} must be one of {', '.join(allowed)}, got {value!r}", verb=verb)


def check_absolute_url(verb: str, name: str, value: str | None) -> None:
    """An absolute http(s) URL, which the platform can fetch whatever served the document."""
    if value is not None:
        check_url(verb, name, value, relative=False)


def check_url(
    verb: str, name: str, value: str | None, *, schemes: tuple[str, ...] = ("http", "https"), relative: bool = True
) -> None:
    """A URL reference: absolute with one of ``schemes`` or, when ``relative``, relative to the document's URL."""
    if value is None:
        return
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    is_relative = relative and parts is not None and not parts.scheme
    absolute = parts is not None and parts.scheme.lower() in schemes and bool(parts.hostname)
    if not value or _SPACE.search(value) or not (is_relative or absolute):
        kinds = "http(s)" if schemes == ("http", "https") else "/".join(schemes)
        form = f"an absolute {kinds} URL or a relative one" if relative else f"an absolute {kinds} URL"
        raise DocumentError(f"{name} must be {form}, got {value!r}", verb=verb)
