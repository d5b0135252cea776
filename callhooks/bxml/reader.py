"""BXML text back into the Catapult verbs, through the shared hardened reader (:mod:`callhooks.xmldoc.reader`).

What is Catapult's own: the pre-GA verbs and ``PlayAudio digits`` are errors (they would change what the call
does), and the pre-GA ``Pause duration`` is read as ``length`` with a warning.
"""

from __future__ import annotations

from ..xmldoc.reader import Warn, read
from .model import DIALECT, BXMLError
from .verbs import Response

__all__ = ["parse"]

# Removed before GA (docs/platforms/catapult-bxml.md#pre-ga-verbs).
_PRE_GA = frozenset({"Call", "Conference", "SendMessage", "Reject", "Media"})


def parse(text: str | bytes, *, base_url: str | None = None, on_warning: Warn | None = None) -> Response:
    """Read a BXML document into the classes of :mod:`callhooks.bxml`; raises :class:`BXMLError` saying where.

    Relative URLs are errors unless ``base_url`` (the URL that served the document) is given: then they are
    resolved against it, with a warning. Unknown attributes and the pre-GA ``Pause duration`` are warnings;
    the other pre-GA forms (``Call``, ``Conference``, ``SendMessage``, ``PlayAudio digits``...) are errors.
    Warnings go to ``on_warning`` when given, else to :func:`warnings.warn` as :class:`BXMLWarning`.
    """
    document = read(text, dialect=DIALECT, roots=(Response,), base_url=base_url, on_warning=on_warning, revise=_pre_ga)
    assert isinstance(document, Response)
    return document


def _pre_ga(name: str, attributes: dict[str, str]) -> str | None:
    if name in _PRE_GA:
        raise BXMLError(f"{name} is a pre-GA verb, not part of GA Catapult BXML")
    if name == "PlayAudio" and "digits" in attributes:  # dropped at GA, and would change what the call does
        raise BXMLError("digits is a pre-GA attribute, not part of GA Catapult BXML", verb="PlayAudio")
    if name == "Pause" and "duration" in attributes and "length" not in attributes:
        attributes["length"] = attributes.pop("duration")
        return "Pause: duration is the pre-GA spelling of length"
    return None
