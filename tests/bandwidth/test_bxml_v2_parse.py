"""BXML v2 text reads back into the same verbs, says where it is wrong, and refuses hostile XML before any work."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callhooks.bandwidth import bxml
from tests.helpers.xml_documents import HOSTILE, documents, fails_at, words, xml_text

numbers = st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True)
BXML_DOCUMENTS = documents(
    bxml.Response,
    text={
        "SpeakSentence": words,
        "PlayAudio": st.sampled_from(["https://a.example/a.wav", "media/b.mp3"]),
        "Bridge": st.from_regex(r"c-[0-9a-f]{8}", fullmatch=True),
        "Conference": st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True),
        "Endpoint": st.from_regex(r"e-[0-9]{1,4}", fullmatch=True),
        "PhoneNumber": numbers,
        "SipUri": st.sampled_from(["sip:agent@pbx.example", "sip:1001@10.0.0.1:5060"]),
        "SendDtmf": st.from_regex(r"[0-9*#a-dA-D,wW]{1,50}", fullmatch=True),
        "Tag": xml_text.filter(lambda text: len(text) <= 256),
    },
    fields={
        "to": numbers,
        "_from": numbers | st.sampled_from(["Private", "sip:me@pbx.example"]),
        "transfer_caller_id": numbers | st.just("Anonymous"),
        "transfer_caller_display_name": st.from_regex(r"[A-Za-z &<>\"']{0,40}", fullmatch=True),
        "terminating_digits": st.from_regex(r"[0-9*#]{0,3}", fullmatch=True),
        "voice": st.sampled_from(["julie", "Paul", "kenji"]),
        "destination": st.just("wss://media.example/s?a=1&b=2"),
        "max_digits": st.integers(1, 50),
        "inter_digit_timeout": st.integers(1, 60),
        "first_digit_timeout": st.integers(0, 60),
        "repeat_count": st.integers(1, 2),
        "duration": st.floats(0.1, 86400, allow_nan=False) | st.integers(1, 86400),
        "call_timeout": st.integers(1, 300) | st.floats(1, 300),
        "callback_timeout": st.integers(1, 25),
        "tone_duration": st.integers(50, 5000),
        "tone_interval": st.integers(50, 5000),
        "max_duration": st.integers(1, 10800),
        "silence_timeout": st.integers(0, 10800),
        "tag": xml_text,
    },
    sizes={"Response": (0, 6), "Transfer": (1, 3), "Connect": (1, 2)},
)


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(BXML_DOCUMENTS)
def test_any_document_reads_back_as_written(document: bxml.Response) -> None:
    assert bxml.parse(str(document)) == document
    as_bxml = bxml.Bxml(*document.verbs)
    assert bxml.parse(str(as_bxml)) == as_bxml


@pytest.mark.parametrize(("document", "rule"), HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_xml_is_refused_before_any_expansion(document: str, rule: str) -> None:
    with pytest.raises(bxml.BXMLError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        bxml.parse(document.format(verb="SpeakSentence").encode())  # as bytes, so the declared encoding counts


def test_an_oversized_document_is_refused_before_parsing() -> None:
    huge = "<Response>" + "<Hangup/>" * 8000 + "</Response>"  # 72 KB of valid BXML
    with pytest.raises(bxml.BXMLError, match="the document is 72021 characters, over the platform's limit of 65536"):
        bxml.parse(huge)
    with pytest.raises(bxml.BXMLError, match="the document is 72021 bytes"):
        bxml.parse(huge.encode())
    assert len(bxml.parse("<Response>" + "<Hangup/>" * 7000 + "</Response>").verbs) == 7000


def test_both_roots_are_read_and_nothing_else_is_a_root() -> None:
    assert bxml.parse("<Bxml><Hangup/></Bxml>") == bxml.Bxml(bxml.Hangup())
    with pytest.raises(bxml.BXMLError, match="the root element must be Response or Bxml, not Hangup"):
        bxml.parse("<Hangup/>")


def test_the_documented_examples_read() -> None:
    document = bxml.parse(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
        '  <SpeakSentence voice="bridget">This call is recorded.</SpeakSentence>\n'
        '  <StartRecording recordingAvailableUrl="https://app.example/rec" multiChannel="true"/>\n'
        '  <Transfer transferCallerId="+15555555555" callTimeout="20" transferCompleteUrl="/xferDone">\n'
        '    <PhoneNumber transferAnswerUrl="/whisper" transferDisconnectUrl="/xferLegEnd">+15555555554</PhoneNumber>\n'
        '    <SipUri uui="aGVsbG8;encoding=base64">sip:agent@pbx.example</SipUri>\n'
        "  </Transfer>\n</Response>"
    )
    assert document == bxml.Response(
        bxml.SpeakSentence("This call is recorded.", voice="bridget"),
        bxml.StartRecording(recording_available_url="https://app.example/rec", multi_channel=True),
        bxml.Transfer(
            bxml.PhoneNumber("+15555555554", transfer_answer_url="/whisper", transfer_disconnect_url="/xferLegEnd"),
            bxml.SipUri("sip:agent@pbx.example", uui="aGVsbG8;encoding=base64"),
            transfer_caller_id="+15555555555",
            call_timeout=20,
            transfer_complete_url="/xferDone",
        ),
    )


def test_relative_urls_are_kept_or_resolved_against_the_serving_url() -> None:
    text = '<Response><Gather gatherUrl="/onGather" maxDigits="1"/></Response>'
    assert bxml.parse(text) == bxml.Response(bxml.Gather(gather_url="/onGather", max_digits=1))
    noted: list[str] = []
    resolved = bxml.parse(text, base_url="https://example.com/answer", on_warning=noted.append)
    assert resolved == bxml.Response(bxml.Gather(gather_url="https://example.com/onGather", max_digits=1))
    assert noted == ["line 1, column 11: Gather: relative gatherUrl '/onGather' read as 'https://example.com/onGather'"]


ERRORS = [
    ("<Response>\n  <Gather maxDigits='51'/>\n</Response>", 2, 3, "Gather: maxDigits must be between 1 and 50"),
    ("<Response>\n  <Pause duration='soon'/>\n</Response>", 2, 3, "Pause: duration must be a whole number"),
    ("<Response>\n  <Ring answerCall='yes'/>\n</Response>", 2, 3, "answerCall must be true or false"),
    ("<Response>\n  <Redirect/>\n</Response>", 2, 3, "Redirect: redirectUrl is required"),
    ("<Response>\n  <Forward/>\n</Response>", 2, 3, "Forward: to is required"),
    ("<Response>\n  <Transfer>\n  </Transfer>\n</Response>", 2, 3, "Transfer: has 0 targets"),
    ("<Response>\n  <PhoneNumber>+15555550100</PhoneNumber>\n</Response>", 2, 3, "Response: cannot hold PhoneNumber"),
    ("<Response>\n  <Gather><Hangup/></Gather>\n</Response>", 2, 11, "Gather: cannot hold Hangup"),
    ("<Response>\n  <SpeakSentence>Hi <break time='1s'/></SpeakSentence></Response>", 2, 21, "unknown verb 'break'"),
    ("<Response>\n  <Call/>\n</Response>", 2, 3, "unknown verb 'Call'"),
]


@pytest.mark.parametrize(("document", "line", "column", "message"), ERRORS)
def test_errors_say_where(document: str, line: int, column: int, message: str) -> None:
    error = fails_at(bxml.parse, bxml.BXMLError, document)
    assert (error.line, error.column, message in str(error)) == (line, column, True), str(error)
