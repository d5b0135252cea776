"""Catapult BXML as a dialect of :mod:`callhooks.xmldoc`: its error and warning types, its limits, its verb base.

The verb table, the value checks, the writer and the hardened reader are the shared ones; an attribute's XML name
is the camelCase of its field name (``request_url`` -> ``requestUrl``), which is exactly the platform's spelling
for every GA verb.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..xmldoc.model import (
    Attribute,
    Callback,
    Dialect,
    DocumentError,
    DocumentWarning,
    Url,
    attributes_of,
    build,
    cannot_hold,
    check_absolute_url,
    check_choice,
    check_range,
    check_text,
    xml_name,
)
from ..xmldoc.model import Verb as _Verb

# The shared pieces this module held before callhooks.xmldoc, still importable from here.
__all__ = [
    "DIALECT",
    "MAX_DOCUMENT_BYTES",
    "MAX_TAG",
    "Attribute",
    "BXMLError",
    "BXMLWarning",
    "Callback",
    "Url",
    "Verb",
    "attributes_of",
    "build",
    "cannot_hold",
    "check_absolute_url",
    "check_choice",
    "check_range",
    "check_text",
    "xml_name",
]

MAX_DOCUMENT_BYTES = 16 * 1024  # "max 16 KB" [AP bxml/bxml.md], counted in UTF-8 bytes
# Undocumented for BXML; the same cap as the newer API's tag (docs/platforms/catapult-bxml.md#tag-length).
MAX_TAG = 4096


class BXMLError(DocumentError):
    """A document or verb breaks a BXML rule; says which verb, which rule and, when parsed, where.

    ``verb`` is the element name (``None`` for document-level problems). In a parsed document, ``line`` and
    ``column`` (1-based) are where the offending element's start tag begins, or where the XML stops being
    well-formed; they are ``None`` for verbs built in code.
    """


class BXMLWarning(DocumentWarning):
    """Something in a parsed document the platform ignores (an unknown attribute, a legacy spelling)."""


DIALECT = Dialect("BXML", BXMLError, BXMLWarning, MAX_DOCUMENT_BYTES)


@dataclass(frozen=True)
class Verb(_Verb):
    """Base of the Catapult verbs: checks the Python types of its values, then the verb's own rules."""

    dialect: ClassVar[Dialect] = DIALECT
