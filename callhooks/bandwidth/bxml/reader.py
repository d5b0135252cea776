"""BXML v2 text back into :mod:`callhooks.bandwidth.bxml`'s verbs, through the shared hardened reader."""

from __future__ import annotations

from ...xmldoc.reader import Warn, read
from .model import DIALECT
from .verbs import Bxml, Response

__all__ = ["parse"]


def parse(text: str | bytes, *, base_url: str | None = None, on_warning: Warn | None = None) -> Response | Bxml:
    """Read a ``<Response>`` or ``<Bxml>`` document; raises :class:`BXMLError` saying where.

    DTDs, entity declarations and external entities are refused, and so is a document over 64 KB, before any
    work. Relative URLs are kept (v2 resolves them against the URL that served the document) unless ``base_url``
    is given: then they are resolved against it, with a warning. Unknown attributes are warnings, which go to
    ``on_warning`` when given, else to :func:`warnings.warn` as :class:`BXMLWarning`.
    """
    document = read(text, dialect=DIALECT, roots=(Response, Bxml), base_url=base_url, on_warning=on_warning)
    assert isinstance(document, Response | Bxml)
    return document
