"""BXML v2: the call-control documents a Bandwidth Voice API v2 application answers synchronous webhooks with.

Build a document from one class per verb, validated as it is built; ``str(response)`` is its text and
:func:`parse` reads text back into the same classes, safely. Verbs and keyword arguments are named as
``bandwidth-sdk``'s builder names them::

    from callhooks.bandwidth import bxml

    menu = bxml.Response(bxml.Gather(bxml.SpeakSentence("Press 1"), gather_url="/menu", max_digits=1))
    assert bxml.parse(str(menu)) == menu

:data:`SYNCHRONOUS_EVENTS` names the webhooks whose reply is run; :func:`callhooks.xmldoc.url_attributes` lists a
verb's URL attributes and ``Response.with_default_urls`` fills the event URLs left out.
"""

from ...xmldoc import url_attributes
from .events import CONFERENCE_EVENTS, CONFERENCE_VERBS, SYNCHRONOUS_EVENTS
from .model import MAX_DOCUMENT_BYTES, MAX_TAG, BXMLError, BXMLWarning, Verb
from .reader import parse
from .verbs import (
    VERBS,
    Bridge,
    Bxml,
    Conference,
    Connect,
    CustomParam,
    Endpoint,
    Forward,
    Gather,
    GatherPrompt,
    Hangup,
    Pause,
    PauseRecording,
    PhoneNumber,
    PlayAudio,
    Record,
    Redirect,
    Response,
    ResponseVerb,
    ResumeRecording,
    Ring,
    SendDtmf,
    SipUri,
    SpeakSentence,
    StartGather,
    StartRecording,
    StartStream,
    StartTranscription,
    StopGather,
    StopRecording,
    StopStream,
    StopTranscription,
    StreamParam,
    Tag,
    Transfer,
    TransferTarget,
)

CONTENT_TYPE = "application/xml; charset=utf-8"  # what the synchronous webhooks expect

__all__ = [
    "CONFERENCE_EVENTS",
    "CONFERENCE_VERBS",
    "CONTENT_TYPE",
    "MAX_DOCUMENT_BYTES",
    "MAX_TAG",
    "SYNCHRONOUS_EVENTS",
    "VERBS",
    "BXMLError",
    "BXMLWarning",
    "Bridge",
    "Bxml",
    "Conference",
    "Connect",
    "CustomParam",
    "Endpoint",
    "Forward",
    "Gather",
    "GatherPrompt",
    "Hangup",
    "Pause",
    "PauseRecording",
    "PhoneNumber",
    "PlayAudio",
    "Record",
    "Redirect",
    "Response",
    "ResponseVerb",
    "ResumeRecording",
    "Ring",
    "SendDtmf",
    "SipUri",
    "SpeakSentence",
    "StartGather",
    "StartRecording",
    "StartStream",
    "StartTranscription",
    "StopGather",
    "StopRecording",
    "StopStream",
    "StopTranscription",
    "StreamParam",
    "Tag",
    "Transfer",
    "TransferTarget",
    "Verb",
    "parse",
    "url_attributes",
]
