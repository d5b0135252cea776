"""BXML v2 verbs check the platform's documented rules when built, and name their URLs for the receiver to fill."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callhooks.bandwidth import bxml
from callhooks.xmldoc import url_attributes

TARGET = bxml.PhoneNumber("+15555555554")
PARAM = bxml.CustomParam(name="a", value="b")

BROKEN: list[tuple[Callable[[], object], str]] = [
    (lambda: bxml.Gather(max_digits=0), "Gather: maxDigits must be between 1 and 50, got 0"),
    (lambda: bxml.Gather(max_digits=51), "Gather: maxDigits must be between 1 and 50, got 51"),
    (lambda: bxml.Gather(inter_digit_timeout=61), "interDigitTimeout must be between 1 and 60"),
    (lambda: bxml.Gather(first_digit_timeout=-1), "firstDigitTimeout must be between 0 and 60"),
    (lambda: bxml.Gather(bxml.SpeakSentence("a"), bxml.SpeakSentence("b"), repeat_count=11), "is 22, over the 20"),
    (lambda: bxml.Gather(terminating_digits="x"), "terminatingDigits must be keys 0-9 * #"),
    (lambda: bxml.Gather(gather_method="PUT"), "gatherMethod must be one of GET, POST, got 'PUT'"),  # type: ignore[arg-type]
    (lambda: bxml.Gather(tag="t" * 257), "tag is 257 characters, over the 256 allowed"),
    (lambda: bxml.Gather(gather_url="ftp://a.example/"), "gatherUrl must be an absolute http(s) URL or a relative"),
    (lambda: bxml.Transfer(), "has 0 targets; a Transfer rings 1 to 8"),
    (lambda: bxml.Transfer(*[TARGET] * 9), "has 9 targets"),
    (lambda: bxml.Transfer(TARGET, call_timeout=301), "callTimeout must be between 1 and 300"),
    (lambda: bxml.Transfer(TARGET, transfer_caller_id="me"), "transferCallerId must be an E.164 number or a SIP"),
    (lambda: bxml.Transfer(TARGET, transfer_caller_display_name="a\nb"), "must not contain control characters"),
    (lambda: bxml.Transfer(TARGET, diversion_reason="bored"), "diversionReason must be one of"),  # type: ignore[arg-type]
    (lambda: bxml.PhoneNumber("555-0100"), "PhoneNumber: the number must be an E.164 number"),
    (lambda: bxml.PhoneNumber("+15555550100", uui="u" * 351), "uui is 351 characters, over the 350"),
    (lambda: bxml.SipUri("tel:+15555550100"), "SipUri: the uri must be a sip: URI"),
    (lambda: bxml.SipUri("sip:a@b.example", uui="u" * 257), "uui is 257 characters, over the 256"),
    (lambda: bxml.Pause(duration=0.05), "Pause: duration must be between 0.1 and 86400"),
    (lambda: bxml.Ring(duration=86401), "Ring: duration must be between 0.1 and 86400"),
    (lambda: bxml.Record(max_duration=10801), "maxDuration must be between 1 and 10800"),
    (lambda: bxml.Record(file_format="ogg"), "fileFormat"),  # type: ignore[arg-type]
    (lambda: bxml.SendDtmf("12e"), "SendDtmf: digits must be 1 to 50"),
    (lambda: bxml.SendDtmf("1" * 51), "SendDtmf: digits must be 1 to 50"),
    (lambda: bxml.SendDtmf("1", tone_duration=49), "toneDuration must be between 50 and 5000"),
    (lambda: bxml.SpeakSentence("Hi", voice="hal"), "voice must be one of"),
    (lambda: bxml.Conference("room 7"), "the name may hold letters, digits, - _ . only"),
    (lambda: bxml.Conference("r" * 101), "the name is 101 characters, over the 100"),
    (lambda: bxml.Conference("r", callback_timeout=26), "callbackTimeout must be between 1 and 25"),
    (lambda: bxml.Forward(to="agent"), "Forward: to must be an E.164 number or a SIP URI"),
    (lambda: bxml.Forward(to="+15555550100", _from="Someone"), "from must be an E.164 number or a SIP URI, or one of"),
    (lambda: bxml.StartStream(destination="https://m.example/"), "destination must be an absolute wss URL"),
    (lambda: bxml.StartStream(*[bxml.StreamParam(name="n", value="v")] * 13, destination="wss://m/"), "13 parameters"),
    (lambda: bxml.StreamParam(name="n", value="v" * 2049), "value is 2049 characters, over the 2048"),
    (lambda: bxml.StartTranscription(*[bxml.CustomParam(name="n", value="v")] * 13), "13 parameters"),
    (lambda: bxml.StartTranscription(tracks="all"), "StartTranscription: tracks must be one of "),  # type: ignore[arg-type]
    (lambda: bxml.Connect(), "Connect: needs at least one Endpoint"),
    (lambda: bxml.Tag("t" * 257), "the tag is 257 characters"),
    (lambda: bxml.PlayAudio("https://a.example/x y.wav"), "the audio URL must be an absolute http(s) URL"),
    (lambda: bxml.SpeakSentence("   "), "SpeakSentence: the text is empty"),
    (lambda: bxml.Gather(bxml.Hangup()), "Gather: cannot hold Hangup; a Gather holds SpeakSentence, PlayAudio"),  # type: ignore[arg-type]
    (
        lambda: bxml.StartStream(bxml.CustomParam(name="a", value="b"), destination="wss://m/"),
        "cannot hold CustomParam",
    ),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "rule"), BROKEN)
def test_each_documented_rule_is_checked_when_built(make: Callable[[], object], rule: str) -> None:
    with pytest.raises(bxml.BXMLError) as caught:
        make()
    assert rule in str(caught.value)


def test_the_limits_themselves_are_allowed() -> None:
    bxml.Gather(*[bxml.SpeakSentence("a")] * 20, max_digits=50, inter_digit_timeout=60, first_digit_timeout=0)
    bxml.Transfer(*[TARGET] * 8, call_timeout=300, transfer_caller_id="Private")
    bxml.Pause(duration=0.1)
    bxml.SendDtmf("1" * 50, tone_duration=5000)
    bxml.Tag()
    bxml.Gather(gather_url="/relative/is/fine?x=1")


def test_wrong_python_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"Gather: max_digits \(maxDigits\) must be int, got str"):
        bxml.Gather(max_digits="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Pause: duration \(duration\) must be int or float, got bool"):
        bxml.Pause(duration=True)


def test_the_64_kb_cap_counts_utf8_bytes() -> None:
    base = len(str(bxml.Response(bxml.SpeakSentence("x"))).encode())
    fits = bxml.Response(bxml.SpeakSentence("x" * (65536 - base + 1)))
    assert len(str(fits).encode()) == 65536
    with pytest.raises(
        bxml.BXMLError, match="the document is 65537 bytes, over the platform's limit of 65536 \\(64 KB\\)"
    ):
        str(bxml.Response(bxml.SpeakSentence("x" * (65537 - base + 1))))


def test_required_urls_are_named_when_written_and_filled_by_default_urls() -> None:
    document = bxml.Response(bxml.StartGather(), bxml.Redirect())
    with pytest.raises(bxml.BXMLError, match=r"StartGather: dtmfUrl is required: pass dtmf_url=\.\.\., or return"):
        str(document)
    filled = document.with_default_urls("https://hooks.example/cb/t0k3n")
    assert filled == bxml.Response(
        bxml.StartGather(dtmf_url="https://hooks.example/cb/t0k3n"),
        bxml.Redirect(redirect_url="https://hooks.example/cb/t0k3n"),
    )


def test_default_urls_fill_event_urls_only_and_keep_the_given_ones() -> None:
    hook = "https://hooks.example/cb"
    document = bxml.Response(
        bxml.Gather(bxml.PlayAudio("https://a.example/menu.wav")),
        bxml.Record(recording_available_url="https://mine.example/rec"),
        bxml.StartRecording(transcribe=True),
        bxml.Transfer(bxml.PhoneNumber("+15555555554"), bxml.SipUri("sip:a@b.example")),
        bxml.StartStream(destination="wss://m.example/"),
    )
    filled = document.with_default_urls(hook)
    gather, record, recording, transfer, stream = filled.verbs
    assert isinstance(gather, bxml.Gather) and gather.gather_url == hook and gather.gather_fallback_url is None
    assert gather.verbs[0] == bxml.PlayAudio("https://a.example/menu.wav")  # media is never a callback
    assert isinstance(record, bxml.Record)
    assert (record.record_complete_url, record.recording_available_url) == (hook, "https://mine.example/rec")
    assert record.transcription_available_url is None  # no transcription asked for
    assert isinstance(recording, bxml.StartRecording) and recording.transcription_available_url == hook
    assert isinstance(transfer, bxml.Transfer) and transfer.transfer_complete_url == hook
    number = transfer.verbs[0]
    assert (number.transfer_disconnect_url, number.transfer_answer_url) == (hook, None)  # no whisper unless asked
    assert isinstance(stream, bxml.StartStream) and (stream.stream_event_url, stream.destination) == (
        hook,
        "wss://m.example/",
    )
    assert filled.with_default_urls("https://other.example/") == filled


def test_url_attributes_name_every_url_and_which_the_receiver_fills() -> None:
    gather = {(a.name, a.callback) for a in url_attributes(bxml.Gather)}
    assert gather == {("gatherUrl", True), ("gatherFallbackUrl", False)}
    assert [(a.name, a.callback) for a in url_attributes(bxml.PlayAudio)] == [("text", False)]
    names = {a.name for cls in bxml.VERBS for a in url_attributes(cls)}
    assert {"destination", "transferAnswerUrl", "conferenceEventUrl", "eventCallbackUrl"} <= names
    assert all(name == "text" or name.endswith("Url") or name == "destination" for name in names)


def test_synchronous_events_are_the_documented_ones() -> None:
    assert {"initiate", "answer", "gather", "redirect", "transferAnswer", "bridgeTargetComplete"} <= (
        bxml.SYNCHRONOUS_EVENTS
    )
    assert not {"disconnect", "dtmf", "recordingAvailable", "conferenceCompleted"} & bxml.SYNCHRONOUS_EVENTS
    assert bxml.CONFERENCE_EVENTS <= bxml.SYNCHRONOUS_EVENTS
    assert {cls.__name__ for cls in bxml.VERBS} >= bxml.CONFERENCE_VERBS
