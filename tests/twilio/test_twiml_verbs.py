"""TwiML verbs check the platform's documented rules when built, and name their URLs for the receiver to fill."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callhooks.twilio import twiml
from callhooks.xmldoc import url_attributes

NUMBER = twiml.Number("+14155552671")

BROKEN: list[tuple[Callable[[], object], str]] = [
    (lambda: twiml.Gather(input="touch"), "Gather: input must be dtmf, speech or both"),
    (lambda: twiml.Gather(num_digits=0), "numDigits must be at least 1"),
    (lambda: twiml.Gather(finish_on_key="##"), "finishOnKey must be one key"),
    (lambda: twiml.Gather(speech_timeout="soon"), "speechTimeout must be one of auto"),  # type: ignore[arg-type]
    (lambda: twiml.Gather(max_speech_time=61), "maxSpeechTime must be between 1 and 60"),
    (lambda: twiml.Gather(method="PUT"), "Gather: method must be one of GET, POST, got 'PUT'"),  # type: ignore[arg-type]
    (lambda: twiml.Gather(action="ftp://a.example/"), "action must be an absolute http(s) URL or a relative one"),
    (lambda: twiml.Gather(twiml.Hangup()), "Gather: cannot hold Hangup; a Gather holds Say, Play, Pause"),  # type: ignore[arg-type]
    (lambda: twiml.Dial(), "Dial: needs a number or nouns to dial"),
    (lambda: twiml.Dial("+1", NUMBER), "Dial: holds either one text or nested verbs, not both"),
    (lambda: twiml.Dial(*[NUMBER] * 11), "dials 11 Number/Client nouns, over the 10"),
    (lambda: twiml.Dial("+1", timeout=4), "Dial: timeout must be between 5 and 600"),
    (lambda: twiml.Dial("+1", record="always"), "record must be one of do-not-record"),  # type: ignore[arg-type]
    (lambda: twiml.Dial("+1", call_reason="x" * 51), "callReason is 51 characters, over the 50"),
    (lambda: twiml.Play(), "Play: needs a url or digits"),
    (lambda: twiml.Play(digits="12x"), "digits must be keys 0-9 * # and w"),
    (lambda: twiml.Play("https://a.example/a.mp3", loop=-1), "loop must be at least 0"),
    (lambda: twiml.Say("   "), "Say: the message is empty"),
    (lambda: twiml.Conference("room", max_participants=251), "maxParticipants must be between 2 and 250"),
    (lambda: twiml.Conference("room", beep="sometimes"), "beep must be one of onEnter, onExit"),  # type: ignore[arg-type]
    (lambda: twiml.Client("c" * 257), "the identity is 257 characters"),
    (lambda: twiml.Sip("kate@example.com"), "Sip: the sip_url must be a sip: URI"),
    (lambda: twiml.Number("+1", send_digits="12x"), "sendDigits must be keys"),
    (lambda: twiml.Record(finish_on_key="12a"), "Record: finishOnKey must be keys 0-9 * #"),
    (lambda: twiml.Record(max_length=0), "maxLength must be at least 1"),
    (lambda: twiml.Reject(reason="no"), "reason must be one of rejected, busy"),  # type: ignore[arg-type]
    (lambda: twiml.Enqueue(), "Enqueue: needs a queue name or a Task"),
    (lambda: twiml.Stream(url="https://m.example/"), "Stream: url must be an absolute wss URL"),
    (lambda: twiml.Stream(track="both"), "track must be one of inbound_track"),  # type: ignore[arg-type]
    (lambda: twiml.Recording(channels="stereo"), "channels must be one of mono, dual"),  # type: ignore[arg-type]
    (lambda: twiml.Redirect("https://a.example/x y"), "Redirect: the url must be an absolute http(s) URL"),
]


@pytest.mark.parametrize(("make", "rule"), BROKEN)
def test_each_documented_rule_is_checked_when_built(make: Callable[[], object], rule: str) -> None:
    with pytest.raises(twiml.TwiMLError) as caught:
        make()
    assert rule in str(caught.value)


def test_the_limits_themselves_are_allowed() -> None:
    twiml.Dial(*[NUMBER] * 10, timeout=600)
    twiml.Gather(num_digits=1, finish_on_key="", speech_timeout=0, max_speech_time=60, input="speech dtmf")
    twiml.Conference("room", max_participants=2, beep=False)
    twiml.Play(digits="ww1#")


def test_wrong_python_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"Gather: num_digits \(numDigits\) must be int, got str"):
        twiml.Gather(num_digits="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Gather: speech_timeout \(speechTimeout\) must be int or str, got float"):
        twiml.Gather(speech_timeout=2.5)  # type: ignore[arg-type]


def test_the_64_kb_cap_counts_utf8_bytes() -> None:
    base = len(str(twiml.Response(twiml.Say("x"))).encode())
    assert len(str(twiml.Response(twiml.Say("x" * (65536 - base + 1)))).encode()) == 65536
    with pytest.raises(twiml.TwiMLError, match=r"the document is 65537 bytes, over the platform's limit of 65536"):
        str(twiml.Response(twiml.Say("x" * (65537 - base + 1))))


def test_default_urls_fill_callbacks_only_and_keep_the_given_ones() -> None:
    hook = "https://hooks.example/cb"
    document = twiml.Response(
        twiml.Gather(twiml.Play("https://a.example/menu.mp3"), action="/mine"),
        twiml.Record(),
        twiml.Dial(twiml.Number("+14155552671"), twiml.Conference("room")),
        twiml.Enqueue("support"),
    )
    gather, record, dial, enqueue = document.with_default_urls(hook).verbs
    assert isinstance(gather, twiml.Gather) and (gather.action, gather.partial_result_callback) == ("/mine", hook)
    assert gather.verbs[0] == twiml.Play("https://a.example/menu.mp3")
    assert isinstance(record, twiml.Record)
    assert (record.action, record.recording_status_callback, record.transcribe_callback) == (hook, hook, None)
    assert isinstance(dial, twiml.Dial) and dial.action == hook
    number, conference = dial.verbs
    assert isinstance(number, twiml.Number) and (number.status_callback, number.url) == (hook, None)  # no whisper
    assert isinstance(conference, twiml.Conference) and (conference.event_callback_url, conference.wait_url) == (
        hook,
        None,
    )
    assert isinstance(enqueue, twiml.Enqueue) and (enqueue.action, enqueue.wait_url) == (hook, None)


def test_url_attributes_name_every_url_and_which_the_receiver_fills() -> None:
    assert [(a.name, a.callback) for a in url_attributes(twiml.Redirect)] == [("text", True)]
    assert [(a.name, a.callback) for a in url_attributes(twiml.Play)] == [("text", False)]
    number = {a.name: a.callback for a in url_attributes(twiml.Number)}
    assert number == {"url": False, "statusCallback": True, "amdStatusCallback": True}
    names = {a.name for cls in twiml.VERBS for a in url_attributes(cls)}
    assert {"action", "waitUrl", "transcribeCallback", "referUrl", "eventCallbackUrl"} <= names
