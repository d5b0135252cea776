"""TwiML as a dialect of :mod:`callhooks.xmldoc`: its error types, its 64 KB cap and the rules every verb shares.

Every verb checks, when built: each ``method`` (``GET`` or ``POST``, as its Literal type says) and each URL
(absolute http(s) or relative to the URL of the current document, which Twilio resolves; a ``<Stream>``'s ``url``
must be an absolute ``wss://`` URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...xmldoc.model import Dialect, DocumentError, DocumentWarning, Method, RelativeUrlsVerb

__all__ = ["DIALECT", "MAX_DOCUMENT_BYTES", "Method", "TwiMLError", "TwiMLWarning", "Verb"]

MAX_DOCUMENT_BYTES = 64 * 1024  # larger bodies are rejected with error 11750


class TwiMLError(DocumentError):
    """A document or verb breaks a TwiML rule; says which verb, which rule and, when parsed, where (``line``,
    ``column``, 1-based)."""


class TwiMLWarning(DocumentWarning):
    """Something in a parsed TwiML document callhooks does not know (an unknown attribute)."""


DIALECT = Dialect("TwiML", TwiMLError, TwiMLWarning, MAX_DOCUMENT_BYTES)


@dataclass(frozen=True)
class Verb(RelativeUrlsVerb):
    """Base of the TwiML verbs and nouns: the shared checks (methods, URLs), then the verb's own ``_rules``."""

    dialect: ClassVar[Dialect] = DIALECT
