"""TwiML for voice: the documents a Twilio application answers its voice webhooks with.

Build a document from one class per verb and noun, validated as it is built; ``str(response)`` is its text and
:func:`parse` reads text back into the same classes, safely. Classes and keyword arguments are named as
twilio-python's ``VoiceResponse`` methods name them::

    from callhooks.twilio import twiml

    menu = twiml.Response(twiml.Gather(twiml.Say("Press 1"), action="/menu", num_digits=1))
    assert twiml.parse(str(menu)) == menu

:func:`callhooks.xmldoc.url_attributes` lists a verb's URL attributes and ``Response.with_default_urls`` fills the
callback URLs left out.
"""

from ...xmldoc import url_attributes
from .model import MAX_DOCUMENT_BYTES, TwiMLError, TwiMLWarning, Verb
from .reader import parse
from .verbs import (
    VERBS,
    Application,
    ApplicationSid,
    Client,
    Conference,
    Connect,
    Dial,
    DialNoun,
    Echo,
    Enqueue,
    Gather,
    GatherPrompt,
    Hangup,
    Header,
    Headers,
    Identity,
    Leave,
    Number,
    Parameter,
    Pause,
    Pay,
    Play,
    Prompt,
    Queue,
    Record,
    Recording,
    Redirect,
    Refer,
    Reject,
    Response,
    ResponseVerb,
    Room,
    Say,
    Sim,
    Sip,
    Start,
    Stop,
    Stream,
    Task,
    Uri,
    WhatsApp,
)

CONTENT_TYPE = "text/xml; charset=utf-8"  # Twilio reads text/xml, application/xml and text/html as TwiML

__all__ = [
    "CONTENT_TYPE",
    "MAX_DOCUMENT_BYTES",
    "VERBS",
    "Application",
    "ApplicationSid",
    "Client",
    "Conference",
    "Connect",
    "Dial",
    "DialNoun",
    "Echo",
    "Enqueue",
    "Gather",
    "GatherPrompt",
    "Hangup",
    "Header",
    "Headers",
    "Identity",
    "Leave",
    "Number",
    "Parameter",
    "Pause",
    "Pay",
    "Play",
    "Prompt",
    "Queue",
    "Record",
    "Recording",
    "Redirect",
    "Refer",
    "Reject",
    "Response",
    "ResponseVerb",
    "Room",
    "Say",
    "Sim",
    "Sip",
    "Start",
    "Stop",
    "Stream",
    "Task",
    "TwiMLError",
    "TwiMLWarning",
    "Uri",
    "Verb",
    "WhatsApp",
    "parse",
    "url_attributes",
]
