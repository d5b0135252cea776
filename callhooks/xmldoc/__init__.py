"""The machinery every call-control XML dialect shares (Catapult BXML, Bandwidth BXML v2, TwiML).

A dialect is data: verb classes (frozen dataclasses over :class:`Verb`, whose fields are the attribute table), a
:class:`Dialect` (name, error types, size cap) and a root class over :class:`Document`. The writer, the hardened
reader, the value checks and the filling of left-out callback URLs are here, once.
"""

from .document import Document, walk
from .model import (
    Attribute,
    Callback,
    Dialect,
    DocumentError,
    DocumentWarning,
    Url,
    Verb,
    attributes_of,
    text_of,
    url_attributes,
)
from .reader import read

__all__ = [
    "Attribute",
    "Callback",
    "Dialect",
    "Document",
    "DocumentError",
    "DocumentWarning",
    "Url",
    "Verb",
    "attributes_of",
    "read",
    "text_of",
    "url_attributes",
    "walk",
]
