"""What the dialect tests share: documents compared as parsed XML, values for every attribute, hostile documents."""

from __future__ import annotations

import typing
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from callhooks.xmldoc import Attribute, DocumentError, Verb, attributes_of, text_of
from callhooks.xmldoc.model import build

Tree = tuple[str, tuple[tuple[str, str], ...], str, tuple[Any, ...]]


def tree(text: str) -> Tree:
    """A document as (tag, sorted attributes, stripped text, children): what a parser sees, whatever the layout."""
    return _node(ET.fromstring(text.encode("utf-8")))


def _node(element: ET.Element) -> Tree:
    children = tuple(_node(child) for child in element)
    return element.tag, tuple(sorted(element.attrib.items())), (element.text or "").strip(), children


def choices(cls: type[Verb], attribute: Attribute) -> tuple[str, ...]:
    """The Literal values an attribute's annotation allows (empty when it is not a Literal)."""
    found: list[str] = []
    pending = [typing.get_type_hints(cls)[attribute.field]]
    while pending:
        hint = pending.pop()
        if typing.get_origin(hint) is typing.Literal:
            found.extend(typing.get_args(hint))
        else:
            pending.extend(typing.get_args(hint))
    return tuple(found)


def every_attribute(cls: type[Verb], overrides: dict[str, Any], numbers: dict[str, Any]) -> dict[str, Any]:
    """A valid value for each attribute of ``cls``: ``overrides`` by field, then by kind (URLs are absolute)."""
    values: dict[str, Any] = {}
    for attribute in attributes_of(cls):
        field = attribute.field
        if field in overrides:
            values[field] = overrides[field]
        elif attribute.url:
            values[field] = f"https://app.example/{field}?a=1&b=2"
        elif choices(cls, attribute):
            values[field] = choices(cls, attribute)[-1]
        elif attribute.kinds[0] is bool:
            values[field] = True
        elif int in attribute.kinds or float in attribute.kinds:
            values[field] = numbers.get(field, 3)
        else:
            values[field] = f'{field} & "value"'
    return values


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Response><{verb}>&lol4;</{verb}></Response>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Response><{verb}>&secret;</{verb}></Response>"""
EXTERNAL_DTD = '<?xml version="1.0"?>\n<!DOCTYPE Response SYSTEM "http://127.0.0.1:9/evil.dtd">\n<Response/>'
UNDECLARED_ENTITY = "<Response><{verb}>&secret;</{verb}></Response>"
ODD_ENCODING = '<?xml version="1.0" encoding="rot13"?>\n<Response><{verb}>Uv</{verb}></Response>'
HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, "document type declaration (DTD) is not allowed"),
    "external entity": (EXTERNAL_ENTITY, "document type declaration (DTD) is not allowed"),
    "external DTD": (EXTERNAL_DTD, "document type declaration (DTD) is not allowed"),
    "undeclared entity": (UNDECLARED_ENTITY, "undefined entity"),
    "encoding expat asks Python for": (ODD_ENCODING, "cannot read the document in the encoding its declaration names"),
}


# Every character XML 1.0 can carry: no C0 controls but tab, line feed and carriage return; no U+FFFE, U+FFFF.
_NOT_XML = [chr(code) for code in range(32) if chr(code) not in "\t\n\r"] + ["\ufffe", "\uffff"]
# Markup, quoting and white space drawn often, so the escaping is exercised on every run.
xml_text = st.text(
    st.sampled_from(list(" \t\r\n&<>\"'é☺\U0001f600]]>;#x"))
    | st.characters(blacklist_categories=("Cs",), blacklist_characters=_NOT_XML),
    max_size=30,
)
words = xml_text.filter(lambda text: bool(text.strip(" \t\r\n")))
urls = st.sampled_from(
    ["https://app.example/menu", "http://127.0.0.1:8080/cb/t0k3n?step=2&lang=en", "/relative?a=1&b='2'", "next"]
)
HOOK = "https://hooks.example/cb/t0k3n"


def documents(
    root: type[Verb],
    *,
    text: dict[str, st.SearchStrategy[Any]],
    fields: dict[str, st.SearchStrategy[Any]],
    sizes: dict[str, tuple[int, int]],
) -> st.SearchStrategy[Verb]:
    """Valid documents of a dialect, drawn from its verb table: every verb the root may nest, with attributes
    left out or set. ``text`` draws each verb's text by class name, ``fields`` an attribute by field name (else by
    its kind), ``sizes`` bounds how many verbs a container holds. Left-out required URLs are filled."""

    def verb(cls: type[Verb]) -> st.SearchStrategy[Verb | None]:
        arguments = {
            attribute.field: (st.none() | _value(cls, attribute)) if not attribute.required else _value(cls, attribute)
            for attribute in attributes_of(cls)
        }
        content = text_of(cls)
        drawn_text: st.SearchStrategy[Any] = st.none()
        if content is not None:
            drawn_text = text[cls.__name__] if content.required else st.none() | text[cls.__name__]
        low, high = sizes.get(cls.__name__, (0, 3))
        children = (
            st.lists(
                st.one_of([st.deferred(lambda kind=kind: verb(kind)) for kind in cls.holds]),
                min_size=low,
                max_size=high,
            )
            if cls.holds
            else st.just([])
        )
        return st.builds(_attempt, st.just(cls), drawn_text, children, st.fixed_dictionaries(arguments))

    def _value(cls: type[Verb], attribute: Attribute) -> st.SearchStrategy[Any]:
        if attribute.field in fields:
            return fields[attribute.field]
        if attribute.choices:
            return st.sampled_from(attribute.choices)
        if attribute.url:
            return urls
        if attribute.kinds[0] is bool:
            return st.booleans()
        if int in attribute.kinds:
            return st.integers(1, 5)
        return xml_text

    return (
        verb(root).filter(lambda document: document is not None).map(lambda document: document.with_default_urls(HOOK))
    )  # type: ignore[union-attr]


def _attempt(cls: type[Verb], text: str | None, children: list[Verb | None], arguments: dict[str, Any]) -> Verb | None:
    """The verb, or ``None`` when the draw breaks one of its rules (a count, a combination)."""
    if any(child is None for child in children):
        return None
    try:
        return build(cls, text, tuple(child for child in children if child is not None), arguments)
    except DocumentError:
        return None


def fails_at(parse: Callable[[str], object], error: type[DocumentError], document: str) -> DocumentError:
    """The error ``parse`` raises for ``document``, which must say where (line and column)."""
    try:
        parse(document)
    except error as raised:
        assert raised.line is not None and raised.column is not None
        return raised
    raise AssertionError(f"{document!r} was read")
