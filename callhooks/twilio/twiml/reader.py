"""TwiML text back into :mod:`callhooks.twilio.twiml`'s verbs, through the shared hardened reader."""

from __future__ import annotations

from ...xmldoc.reader import Warn, read
from .model import DIALECT
from .verbs import Response

__all__ = ["parse"]


def parse(text: str | bytes, *, base_url: str | None = None, on_warning: Warn | None = None) -> Response:
    """Read a ``<Response>`` document; raises :class:`TwiMLError` saying where.

    DTDs, entity declarations and external entities are refused, and so is a document over 64 KB, before any
    work. Relative URLs are kept (Twilio resolves them against the current document's URL) unless ``base_url`` is
    given: then they are resolved against it, with a warning. Unknown attributes are warnings, which go to
    ``on_warning`` when given, else to :func:`warnings.warn` as :class:`TwiMLWarning`.
    """
    document = read(text, dialect=DIALECT, roots=(Response,), base_url=base_url, on_warning=on_warning)
    assert isinstance(document, Response)
    return document
