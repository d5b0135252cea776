"""Every TwiML verb and noun, all of its attributes set, makes the document twilio-python's ``VoiceResponse`` makes
from the same keyword arguments (compared parsed): the same names, booleans, attribute names and text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from callhooks.twilio import twiml
from callhooks.xmldoc import Verb, attributes_of, text_of
from tests.helpers.xml_documents import every_attribute, tree

voice_response = pytest.importorskip("twilio.twiml.voice_response")

NUMBERS = {
    "timeout": 10,
    "max_participants": 50,
    "max_speech_time": 30,
    "sample_rate": 8000,
    "priority": 5,
    "max_attempts": 2,
    "min_postal_code_length": 5,
}
OVERRIDES: dict[str, Any] = {
    "input": "dtmf speech",
    "finish_on_key": "#",
    "digits": "1w2#",
    "send_digits": "ww1234",
    "speech_timeout": "auto",
    "status_callback_event": "initiated ringing answered completed",
    "call_reason": "Your appointment",
}
TEXT = {
    "Say": 'Press 1 & say "sales" <now>',
    "Play": "https://app.example/a.mp3?x=1&y=2",
    "Dial": "+15005550006",
    "Number": "+14155552671",
    "Client": "alice",
    "Conference": "room & board",
    "Queue": "support",
    "Sip": "sip:kate@example.com?X-Header=1",
    "Sim": "DE8caa2afb9d5279926619c458dc7098a8",
    "Redirect": "/voice?a=1&b=2",
    "Enqueue": "support",
    "Task": '{"account_number": "12345"}',
    "Room": "DailyStandup",
    "Identity": "alice",
    "Uri": "sip:kate@example.com",
    "ApplicationSid": "AP1234",
    "Application": "AP5678",
    "WhatsApp": "+14155552671",
}
# The verbs each container holds in this test, and the twilio-python method that nests each.
CHILDREN: dict[str, list[Verb]] = {
    "Gather": [twiml.Say("Hi"), twiml.Play("https://a.example/b.wav"), twiml.Pause(length=2)],
    "Dial": [twiml.Number("+14155552671"), twiml.Client("bob"), twiml.Sip("sip:a@b.example"), twiml.Sim("DE1")],
    "Hangup": [twiml.Parameter(name="reason", value="done")],
    "Reject": [twiml.Parameter(name="a", value="1")],
    "Enqueue": [],
    "Stream": [twiml.Parameter(name="a", value="b & c")],
    "Start": [twiml.Stream(url="wss://m.example/s"), twiml.Recording(channels="dual")],
    "Stop": [twiml.Stream(name="s1")],
    "Connect": [twiml.Stream(url="wss://m.example/s"), twiml.Room("r1")],
    "Refer": [twiml.Sip("sip:transfer@example.com")],
    "Headers": [twiml.Header(name="X-Case", value="7"), twiml.Header(name="X-Agent", value="a & b")],
    "Pay": [twiml.Prompt(twiml.Say("Card number?"), for_="payment-card-number"), twiml.Parameter(name="a", value="b")],
    "Prompt": [twiml.Say("Card number?"), twiml.Pause(length=1)],
}
STREAM_URL = {"url": "wss://media.example/s?a=1"}
HOLDER = {  # where a nested-only verb goes in a document, built both ways
    "Number": "Dial",
    "Client": "Dial",
    "Conference": "Dial",
    "Queue": "Dial",
    "Sip": "Dial",
    "Sim": "Dial",
    "Application": "Dial",
    "WhatsApp": "Dial",
    "Identity": "Client",
    "ApplicationSid": "Application",
    "Uri": "Sip",
    "Headers": "Sip",
    "Header": "Headers",
    "Parameter": "Hangup",
    "Task": "Enqueue",
    "Recording": "Start",
    "Stream": "Start",
    "Room": "Connect",
    "Prompt": "Pay",
}


def _method(cls: type[Verb]) -> str:
    """The VoiceResponse method that adds ``cls``: ``Say`` -> ``say``."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", cls.__name__).lower()


def _arguments(verb: Verb) -> tuple[list[Any], dict[str, Any]]:
    text = text_of(type(verb))
    values = [getattr(verb, text.field)] if text is not None and getattr(verb, text.field) is not None else []
    return values, {
        a.field: getattr(verb, a.field) for a in attributes_of(type(verb)) if getattr(verb, a.field) is not None
    }


def _twilio(verb: Verb, parent: Any) -> None:
    """Add ``verb`` to a twilio-python node through the method twilio-python names it by."""
    text, attributes = _arguments(verb)
    node = getattr(parent, _method(type(verb)))(*text, **attributes)
    for child in getattr(verb, "verbs", ()):
        _twilio(child, node)


def _full(cls: type[Verb]) -> Verb:
    """``cls`` with every attribute set."""
    overrides = {**OVERRIDES, **(STREAM_URL if cls is twiml.Stream else {})}
    values = every_attribute(cls, overrides, NUMBERS)
    text = [TEXT[cls.__name__]] if text_of(cls) is not None else []
    children = CHILDREN.get(cls.__name__, [])
    if cls is twiml.Dial:
        text = []  # a Dial holds a number or nouns; the nouns here, the number in the next test
    return cls(*text, *children, **values)


def _document(verb: Verb) -> twiml.Response:
    """``verb`` in a document: inside the verbs that hold it, up to the Response."""
    while (holder := HOLDER.get(type(verb).__name__)) is not None:
        extra = {"workflow_sid": "WW1"} if holder == "Enqueue" else {}
        siblings = [twiml.Uri("sip:a@b.example")] if holder == "Sip" else []  # a Sip needs a URI
        verb = getattr(twiml, holder)(verb, *siblings, **extra)
    return twiml.Response(verb)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [cls for cls in twiml.VERBS if cls is not twiml.Response], ids=lambda c: c.__name__)
def test_each_verb_with_every_attribute_matches_voice_response(cls: type[Verb]) -> None:
    document = _document(_full(cls))
    expected = voice_response.VoiceResponse()
    for verb in document.verbs:
        _twilio(verb, expected)
    assert tree(str(document)) == tree(str(expected))
    assert twiml.parse(str(document)) == document
    written = [node for node in _nodes(tree(str(document))) if node[0] == cls.__name__]
    assert any(len(node[1]) == len(attributes_of(cls)) for node in written)  # every attribute was written


def _nodes(node: Any) -> list[Any]:
    return [node, *(found for child in node[3] for found in _nodes(child))]


def test_text_forms_and_an_empty_document_match_voice_response() -> None:
    expected = voice_response.VoiceResponse()
    expected.dial("+15005550006", caller_id="+15005550001", answer_on_bridge=False)
    expected.enqueue("support", wait_url="/hold")
    expected.play(digits="1234")
    expected.redirect("/next")
    document = twiml.Response(
        twiml.Dial("+15005550006", caller_id="+15005550001", answer_on_bridge=False),
        twiml.Enqueue("support", wait_url="/hold"),
        twiml.Play(digits="1234"),
        twiml.Redirect("/next"),
    )
    assert tree(str(document)) == tree(str(expected))
    assert tree(str(twiml.Response())) == tree(str(voice_response.VoiceResponse()))


def test_twilio_python_s_output_reads_back_as_built() -> None:
    example = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/gather" actionOnEmptyResult="true" '
        'input="dtmf speech" numDigits="1" speechTimeout="auto" timeout="3"><Say language="en-US" '
        'voice="Polly.Joanna">Press 1 &amp; say "sales" &lt;now&gt;</Say></Gather>'
        '<Redirect method="POST">/voice</Redirect></Response>'
    )
    built = twiml.Response(
        twiml.Gather(
            twiml.Say('Press 1 & say "sales" <now>', voice="Polly.Joanna", language="en-US"),
            action="/gather",
            action_on_empty_result=True,
            input="dtmf speech",
            num_digits=1,
            speech_timeout="auto",
            timeout=3,
        ),
        twiml.Redirect("/voice", method="POST"),
    )
    assert twiml.parse(example) == built
    assert tree(str(built)) == tree(example)


def test_a_python_list_is_refused_where_twilio_python_would_write_its_repr() -> None:
    """twilio-python writes ``str(value)``: a list becomes ``"['initiated', 'ringing']"``, which Twilio cannot
    read; callhooks takes the space-separated string TwiML wants and refuses the list."""
    expected = voice_response.VoiceResponse()
    expected.dial().number("+14155552671", status_callback_event=["initiated", "ringing"])
    assert "statusCallbackEvent=\"['initiated', 'ringing']\"" in str(expected)
    with pytest.raises(TypeError, match=r"status_callback_event \(statusCallbackEvent\) must be str, got list"):
        twiml.Number("+14155552671", status_callback_event=["initiated", "ringing"])  # type: ignore[arg-type]
