"""TwiML text reads back into the same verbs, says where it is wrong, and refuses hostile XML before any work."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callhooks.twilio import twiml
from tests.helpers.xml_documents import HOSTILE, documents, fails_at, words, xml_text

numbers = st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True)
keys = st.from_regex(r"[0-9*#w]{1,6}", fullmatch=True)
TWIML_DOCUMENTS = documents(
    twiml.Response,
    text={
        "Say": words,
        "Play": st.sampled_from(["https://a.example/a.mp3", "media/b.wav?x=1&y=2"]),
        "Dial": numbers,
        "Number": numbers,
        "Client": words,
        "Conference": words,
        "Queue": words,
        "Sip": st.sampled_from(["sip:kate@example.com", "sip:1001@10.0.0.1:5060?X-Header=a&b"]),
        "Sim": st.from_regex(r"DE[0-9a-f]{32}", fullmatch=True),
        "Redirect": st.sampled_from(["/next", "https://app.example/voice?a=1&b=2"]),
        "Enqueue": words,
        "Task": st.just('{"selected_language": "es"}'),
        "Room": words,
        "Identity": words,
        "Uri": st.just("sip:kate@example.com"),
        "ApplicationSid": st.from_regex(r"AP[0-9a-f]{8}", fullmatch=True),
        "Application": st.from_regex(r"AP[0-9a-f]{8}", fullmatch=True),
        "WhatsApp": numbers,
    },
    fields={
        "digits": keys,
        "send_digits": keys,
        "input": st.sampled_from(["dtmf", "speech", "dtmf speech"]),
        "finish_on_key": st.from_regex(r"[0-9*#]?", fullmatch=True),
        "speech_timeout": st.integers(0, 10) | st.just("auto"),
        "max_speech_time": st.integers(1, 60),
        "max_participants": st.integers(2, 250),
        "call_reason": xml_text.filter(lambda text: len(text) <= 50),
        "url": st.sampled_from(["wss://m.example/s?a=1", "/whisper"]),  # a Stream's must be wss (filtered)
        "loop": st.integers(0, 3),
        "length": st.integers(0, 10),
        "priority": st.integers(0, 10),
        "beep": st.booleans() | st.sampled_from(["onEnter", "onExit"]),
        "timeout": st.integers(5, 60),
    },
    sizes={"Response": (0, 6), "Dial": (0, 3), "Sip": (0, 2)},
)


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(TWIML_DOCUMENTS)
def test_any_document_reads_back_as_written(document: twiml.Response) -> None:
    assert twiml.parse(str(document)) == document


@pytest.mark.parametrize(("document", "rule"), HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_xml_is_refused_before_any_expansion(document: str, rule: str) -> None:
    with pytest.raises(twiml.TwiMLError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        twiml.parse(document.format(verb="Say").encode())  # as bytes, so the declared encoding counts


def test_an_oversized_document_is_refused_before_parsing() -> None:
    huge = "<Response>" + "<Hangup/>" * 8000 + "</Response>"
    with pytest.raises(twiml.TwiMLError, match="the document is 72021 characters, over the platform's limit of 65536"):
        twiml.parse(huge)
    with pytest.raises(twiml.TwiMLError, match="the document is 72021 bytes"):
        twiml.parse(huge.encode())


def test_a_nested_dial_reads() -> None:
    document = twiml.parse(
        '<Response><Dial action="/dial-done" answerOnBridge="true" callerId="+15005550006" '
        'record="record-from-answer-dual" timeout="20"><Number statusCallback="/sc" '
        'statusCallbackEvent="initiated ringing answered completed" url="/whisper">+14155552671</Number>'
        "<Client>alice</Client></Dial></Response>"
    )
    assert document == twiml.Response(
        twiml.Dial(
            twiml.Number(
                "+14155552671",
                status_callback="/sc",
                status_callback_event="initiated ringing answered completed",
                url="/whisper",
            ),
            twiml.Client("alice"),
            action="/dial-done",
            answer_on_bridge=True,
            caller_id="+15005550006",
            record="record-from-answer-dual",
            timeout=20,
        )
    )


ERRORS = [
    ("<Response>\n  <Gather numDigits='0'/>\n</Response>", 2, 3, "Gather: numDigits must be at least 1"),
    ("<Response>\n  <Pause length='soon'/>\n</Response>", 2, 3, "Pause: length must be a whole number"),
    ("<Response>\n  <Dial hangupOnStar='yes'>+1</Dial>\n</Response>", 2, 3, "must be true or false"),
    ("<Response>\n  <Dial>+1<Number>+2</Number></Dial>\n</Response>", 2, 3, "Dial: holds either one text or nested"),
    ("<Response>\n  <Number>+1</Number>\n</Response>", 2, 3, "Response: cannot hold Number"),
    ("<Response>\n  <Say>Hi <break time='1s'/></Say></Response>", 2, 11, "unknown verb 'break'"),
    ("<Response>\n  <Redirect/>\n</Response>", 2, 3, "Redirect: the url is empty"),
    ("<Say>Hi</Say>", 1, 1, "the root element must be Response, not Say"),
    ("<Response><Pause length='1'></Response>", 1, 31, "not well-formed XML: mismatched tag"),
]


@pytest.mark.parametrize(("document", "line", "column", "message"), ERRORS)
def test_errors_say_where(document: str, line: int, column: int, message: str) -> None:
    error = fails_at(twiml.parse, twiml.TwiMLError, document)
    assert (error.line, error.column, message in str(error)) == (line, column, True), str(error)
