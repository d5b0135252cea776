"""BXML: the call-control documents a Catapult v1 application answers with (docs/platforms/catapult-bxml.md).

Build a document from one class per GA verb, validated as it is built; ``str(response)`` is its text and
:func:`parse` reads text back into the same classes, safely::

    from callhooks import bxml

    menu = bxml.Response(
        bxml.Gather(bxml.SpeakSentence("Press 1 for sales."), request_url="https://app.example/menu", max_digits=1)
    )
    assert bxml.parse(str(menu)) == menu
"""

from .model import MAX_DOCUMENT_BYTES, BXMLError, BXMLWarning, Verb
from .reader import parse
from .verbs import (
    Gather,
    GatherPrompt,
    Hangup,
    Pause,
    PhoneNumber,
    PlayAudio,
    Record,
    Redirect,
    Response,
    ResponseVerb,
    SendDtmf,
    SpeakSentence,
    Transfer,
    TransferVerb,
)

# The platform names no Content-Type for replies; the v1-era C# SDK sent this one
# (docs/platforms/catapult-bxml.md#reply-content-type).
CONTENT_TYPE = "text/xml; charset=utf-8"

__all__ = [
    "CONTENT_TYPE",
    "MAX_DOCUMENT_BYTES",
    "BXMLError",
    "BXMLWarning",
    "Gather",
    "GatherPrompt",
    "Hangup",
    "Pause",
    "PhoneNumber",
    "PlayAudio",
    "Record",
    "Redirect",
    "Response",
    "ResponseVerb",
    "SendDtmf",
    "SpeakSentence",
    "Transfer",
    "TransferVerb",
    "Verb",
    "parse",
]
