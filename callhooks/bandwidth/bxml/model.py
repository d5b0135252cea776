"""BXML v2 as a dialect of :mod:`callhooks.xmldoc`: its error types, its 64 KB cap and the rules every verb shares.

Every verb checks, when built: its ``tag`` (at most 256 characters in BXML), each ``*Method`` (``GET`` or
``POST``, as its Literal type says), and each URL (absolute http(s) or relative to the URL that served the
document, since v2 resolves relative ones; a stream's ``destination`` must be an absolute ``wss://`` URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...xmldoc.model import (
    Dialect,
    DocumentError,
    DocumentWarning,
    Method,
    RelativeUrlsVerb,
    check_length,
)

__all__ = [
    "DIALECT",
    "MAX_DOCUMENT_BYTES",
    "MAX_TAG",
    "BXMLError",
    "BXMLWarning",
    "Credentials",
    "FallbackCredentials",
    "Method",
    "Tagged",
    "Verb",
]

MAX_DOCUMENT_BYTES = 64 * 1024  # "64 KB per document", counted in UTF-8 bytes
MAX_TAG = 256  # a BXML tag attribute (4096 through REST)


class BXMLError(DocumentError):
    """A document or verb breaks a BXML v2 rule; says which verb, which rule and, when parsed, where (``line``,
    ``column``, 1-based)."""


class BXMLWarning(DocumentWarning):
    """Something in a parsed BXML v2 document the platform ignores (an unknown attribute)."""


DIALECT = Dialect("BXML", BXMLError, BXMLWarning, MAX_DOCUMENT_BYTES)


@dataclass(frozen=True)
class Verb(RelativeUrlsVerb):
    """Base of the v2 verbs: the shared checks (tag, methods, URLs), then the verb's own ``_rules``."""

    dialect: ClassVar[Dialect] = DIALECT

    def _validate(self) -> None:
        check_length(type(self).__name__, "tag", getattr(self, "tag", None), MAX_TAG)
        super()._validate()


@dataclass(frozen=True, kw_only=True)
class Credentials(Verb):
    """``username``/``password``: Basic credentials for the verb's primary URLs (https only)."""

    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, kw_only=True)
class FallbackCredentials(Credentials):
    """And ``fallbackUsername``/``fallbackPassword`` for its fallback URLs."""

    fallback_username: str | None = None
    fallback_password: str | None = None


@dataclass(frozen=True, kw_only=True)
class Tagged(Verb):
    """``tag``: set on the call from this verb on, in every later webhook (``""`` clears it)."""

    tag: str | None = None
