"""The BXML builder: every verb and attribute written with the platform's names, validated when built, read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from callhooks import bxml

AUDIO = "https://media.example/beep.wav"
HOOK = "https://app.example/hook"
TARGET = "+19195550122"

# Every attribute of every GA verb, spelled as docs/platforms/catapult-bxml.md#verbs spells it.
PLATFORM_ATTRIBUTES = {
    "Response": set(),
    "SpeakSentence": {"gender", "locale", "voice", "volume"},
    "PlayAudio": {"volume", "repeatCount", "delayBeforeRepeat"},
    "Gather": {
        *("requestUrl", "requestUrlTimeout", "terminatingDigits", "maxDigits"),
        *("interDigitTimeout", "bargeable", "tag"),
    },
    "Transfer": {
        *("transferTo", "transferCallerId", "callTimeout", "requestUrl", "requestUrlTimeout", "tag"),
        *("diversionTreatment", "diversionReason"),
    },
    "PhoneNumber": set(),
    "Record": {
        *("requestUrl", "requestUrlTimeout", "fileFormat", "transcribe", "transcribeCallbackUrl", "multiChannel"),
        *("maxDuration", "silenceTimeout", "silenceThreshold", "terminatingDigits"),
    },
    "Redirect": {"requestUrl", "requestUrlTimeout"},
    "Hangup": set(),
    "Pause": {"length"},
    "SendDtmf": set(),
}


def everything() -> bxml.Response:
    """A document setting every attribute of every verb."""
    return bxml.Response(
        bxml.SpeakSentence("Hello", gender="male", locale="en_UK", voice="simon", volume=-4),
        bxml.PlayAudio(AUDIO, volume=4, repeat_count=30, delay_before_repeat=0),
        bxml.Gather(
            bxml.PlayAudio(AUDIO, repeat_count=3, delay_before_repeat=60),
            request_url=HOOK,
            request_url_timeout=10000,
            terminating_digits="*#",
            max_digits=128,
            inter_digit_timeout=30,
            bargeable=False,
            tag='{"step": "pin"}',
        ),
        bxml.Transfer(
            bxml.PhoneNumber("+19195550111"),
            bxml.PhoneNumber("sip:alice@pbx.example"),
            bxml.SpeakSentence("Whisper", locale="es_mx"),
            bxml.Record(multi_channel=True, file_format="wav", request_url=HOOK),
            transfer_to=TARGET,
            transfer_caller_id="No Caller Id",
            call_timeout=300,
            request_url=HOOK,
            request_url_timeout=1,
            tag="support",
            diversion_treatment="stack",
            diversion_reason="do-not-disturb",
        ),
        bxml.Record(
            request_url=HOOK,
            request_url_timeout=5000,
            file_format="wav",
            max_duration=3600,
            silence_timeout=60,
            silence_threshold=0,
            terminating_digits="#",
            transcribe=True,
            transcribe_callback_url="https://app.example/transcribed",
            multi_channel=False,
        ),
        bxml.Pause(length=3600),
        bxml.SendDtmf("1W2w,#*" + "9" * 85),
        bxml.Redirect(request_url="https://app.example/next?step=2&lang=en", request_url_timeout=10000),
        bxml.Hangup(),
    )


def _elements(root: ET.Element) -> list[ET.Element]:
    return list(root.iter())


def test_every_attribute_is_written_with_the_platform_name_and_read_back() -> None:
    document = everything()
    text = str(document)
    written: dict[str, set[str]] = {name: set() for name in PLATFORM_ATTRIBUTES}
    for element in _elements(ET.fromstring(text)):
        written[element.tag] |= set(element.attrib)
    assert written == PLATFORM_ATTRIBUTES
    assert bxml.parse(text) == document
    assert bxml.parse(text.encode("utf-8")) == document


def test_values_are_written_as_the_platform_reads_them() -> None:
    root = ET.fromstring(str(everything()))
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib["bargeable"] == "false"
    assert gather.attrib["maxDigits"] == "128"
    assert gather.attrib["tag"] == '{"step": "pin"}'
    record = root.find("Record")
    assert record is not None
    assert record.attrib["transcribe"] == "true"
    speak = root.find("SpeakSentence")
    assert speak is not None
    assert (speak.attrib["volume"], speak.text) == ("-4", "Hello")


def test_document_layout() -> None:
    document = bxml.Response(bxml.Pause(length=2), bxml.Hangup())
    assert (
        str(document)
        == '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Pause length="2"/>\n  <Hangup/>\n</Response>'
    )
    assert str(bxml.Response()) == '<?xml version="1.0" encoding="UTF-8"?>\n<Response/>'
    assert bxml.CONTENT_TYPE == "text/xml; charset=utf-8"


def test_speak_sentence_always_writes_gender_locale_and_a_matching_voice() -> None:
    assert bxml.SpeakSentence("Hi").voice == "susan"
    assert (bxml.SpeakSentence("Hi", gender="male").voice, bxml.SpeakSentence("Hi", locale="de").voice) == (
        "paul",
        "katrin",
    )
    assert bxml.SpeakSentence("Hola", gender="male", locale="es_MX").voice == "jorge"
    assert bxml.SpeakSentence("Hi", voice="Julie").voice == "Julie"  # the REST API capitalises; both are read
    root = ET.fromstring(str(bxml.Response(bxml.SpeakSentence("Hi"))))
    assert root[0].attrib == {"gender": "female", "locale": "en_US", "voice": "susan"}
    # An explicit default and an omitted one are the same verb.
    assert bxml.SpeakSentence("Hi") == bxml.SpeakSentence("Hi", voice="susan")


def test_text_is_trimmed_and_verbs_compare_by_value() -> None:
    assert bxml.SpeakSentence("\n    Press 1.\n  ").sentence == "Press 1."
    assert bxml.PhoneNumber(" +19195550111\n").number == "+19195550111"
    assert bxml.Gather(bxml.SpeakSentence("a"), request_url=HOOK) == bxml.Gather(
        bxml.SpeakSentence("a "), request_url=HOOK
    )
    assert bxml.Gather(request_url=HOOK) != bxml.Gather(request_url=HOOK, max_digits=128)
    assert hash(bxml.Response(bxml.Hangup())) == hash(bxml.Response(bxml.Hangup()))


REJECTED: list[tuple[Callable[[], object], str, str]] = [
    (lambda: bxml.SpeakSentence(" \n\t"), "SpeakSentence", "sentence is empty"),
    (lambda: bxml.SpeakSentence("a\x00b"), "SpeakSentence", "U+0000"),
    (lambda: bxml.SpeakSentence("x", gender="other"), "SpeakSentence", "gender must be one of female, male"),
    (lambda: bxml.SpeakSentence("x", locale="en_GB"), "SpeakSentence", "locale must be one of"),
    (lambda: bxml.SpeakSentence("x", voice="hal"), "SpeakSentence", "voice must be one of"),
    (lambda: bxml.SpeakSentence("x", volume=5), "SpeakSentence", "volume must be between -4 and 4, got 5"),
    (lambda: bxml.PlayAudio("beep.wav"), "PlayAudio", "must be an absolute http(s) URL"),
    (lambda: bxml.PlayAudio("ftp://media.example/beep.wav"), "PlayAudio", "absolute http(s) URL"),
    (lambda: bxml.PlayAudio("https://media.example/a b.wav"), "PlayAudio", "absolute http(s) URL"),
    (lambda: bxml.PlayAudio(AUDIO, volume=-5), "PlayAudio", "volume must be between -4 and 4"),
    (lambda: bxml.PlayAudio(AUDIO, repeat_count=0), "PlayAudio", "repeatCount must be between 1 and 30"),
    (lambda: bxml.PlayAudio(AUDIO, repeat_count=31), "PlayAudio", "repeatCount must be between 1 and 30"),
    (lambda: bxml.PlayAudio(AUDIO, delay_before_repeat=61), "PlayAudio", "delayBeforeRepeat must be between 0 and 60"),
    (lambda: bxml.PhoneNumber("+1 919 555 0111"), "PhoneNumber", "white space"),
    (lambda: bxml.SendDtmf("12a"), "SendDtmf", "digits must be 1 to 92 of 0-9 * # , w W"),
    (lambda: bxml.SendDtmf("1" * 93), "SendDtmf", "digits must be 1 to 92"),
    (lambda: bxml.Pause(length=-1), "Pause", "length must be between 0 and 3600"),
    (lambda: bxml.Pause(length=3601), "Pause", "length must be between 0 and 3600"),
    (lambda: bxml.Redirect(request_url="/next", request_url_timeout=1), "Redirect", "requestUrl must be an absolute"),
    (
        lambda: bxml.Redirect(request_url=HOOK, request_url_timeout=0),
        "Redirect",
        "requestUrlTimeout must be at least 1",
    ),
    (lambda: bxml.Record(file_format="ogg"), "Record", "fileFormat must be one of wav, mp3"),
    (lambda: bxml.Record(transcribe=True, file_format="mp3"), "Record", "needs fileFormat wav"),
    (lambda: bxml.Record(max_duration=3601), "Record", "maxDuration must be between 1 and 3600"),
    (lambda: bxml.Record(silence_timeout=61), "Record", "silenceTimeout must be between 1 and 60"),
    (lambda: bxml.Record(silence_threshold=-1), "Record", "silenceThreshold must be at least 0"),
    (lambda: bxml.Record(terminating_digits="x"), "Record", "terminatingDigits must be keys"),
    (lambda: bxml.Record(transcribe_callback_url="x"), "Record", "transcribeCallbackUrl must be an absolute"),
    (lambda: bxml.Gather(max_digits=0), "Gather", "maxDigits must be between 1 and 128, got 0"),
    (lambda: bxml.Gather(max_digits=129), "Gather", "maxDigits must be between 1 and 128"),
    (lambda: bxml.Gather(terminating_digits=""), "Gather", "terminatingDigits must be keys"),
    (lambda: bxml.Gather(inter_digit_timeout=31), "Gather", "interDigitTimeout must be between 1 and 30"),
    (lambda: bxml.Gather(request_url_timeout=0), "Gather", "requestUrlTimeout must be at least 1"),
    (lambda: bxml.Gather(tag="x" * 4097), "Gather", "tag is 4097 characters, over the 4096 allowed"),
    (lambda: bxml.Gather(bxml.PlayAudio(AUDIO), bxml.PlayAudio(AUDIO)), "Gather", "never both"),
    (
        lambda: bxml.Gather(bxml.SpeakSentence("a"), bxml.PlayAudio(AUDIO)),
        "Gather",
        "holds 1 SpeakSentence and 1 PlayAudio",
    ),
    (lambda: bxml.Gather(bxml.Hangup()), "Gather", "cannot hold Hangup; a Gather holds SpeakSentence, PlayAudio"),
    (lambda: bxml.Transfer(), "Transfer", "needs a target: transferTo or a PhoneNumber"),
    (lambda: bxml.Transfer(bxml.SpeakSentence("Whisper")), "Transfer", "needs a target"),
    (
        lambda: bxml.Transfer(*(bxml.PhoneNumber(f"+1919555010{i}") for i in range(7)), transfer_to=TARGET),
        "Transfer",
        "has 8 targets (transferTo and PhoneNumbers), over the 7 allowed",
    ),
    (lambda: bxml.Transfer(transfer_to="12345"), "Transfer", "transferTo must be an E.164 number or a sip: URI"),
    (lambda: bxml.Transfer(transfer_to=TARGET, transfer_caller_id="bob"), "Transfer", "transferCallerId must be"),
    (lambda: bxml.Transfer(transfer_to=TARGET, call_timeout=301), "Transfer", "callTimeout must be between 1 and 300"),
    (lambda: bxml.Transfer(transfer_to=TARGET, diversion_treatment="x"), "Transfer", "diversionTreatment must be"),
    (lambda: bxml.Transfer(transfer_to=TARGET, diversion_reason="x"), "Transfer", "diversionReason must be"),
    (lambda: bxml.Transfer(bxml.Record(), bxml.Record(), transfer_to=TARGET), "Transfer", "more than one Record"),
    (lambda: bxml.Transfer(bxml.Gather(), transfer_to=TARGET), "Transfer", "cannot hold Gather"),
    (lambda: bxml.Response(bxml.PhoneNumber("+19195550111")), "Response", "cannot hold PhoneNumber"),
    (lambda: bxml.Response(bxml.Response()), "Response", "cannot hold Response"),
    (lambda: bxml.Response("Hello"), "Response", "cannot hold a str"),
]


@pytest.mark.parametrize(("make", "verb", "rule"), REJECTED, ids=[f"{case[1]}-{i}" for i, case in enumerate(REJECTED)])
def test_breaking_a_rule_names_the_verb_and_the_rule(make: Callable[[], object], verb: str, rule: str) -> None:
    with pytest.raises(bxml.BXMLError) as caught:
        make()
    assert caught.value.verb == verb
    assert rule in str(caught.value)
    assert str(caught.value).startswith(f"{verb}: ")


WRONG_TYPES: list[tuple[Callable[[], object], str]] = [
    (lambda: bxml.Gather(max_digit=3), "unexpected keyword argument 'max_digit'"),
    (lambda: bxml.SpeakSentence("x", voise="paul"), "unexpected keyword argument 'voise'"),
    (lambda: bxml.Redirect(request_url=HOOK), "missing 1 required keyword-only argument: 'request_url_timeout'"),
    (lambda: bxml.Gather(max_digits="3"), "Gather: max_digits (maxDigits) must be int, got str"),
    (lambda: bxml.Gather(bargeable=1), "Gather: bargeable (bargeable) must be bool, got int"),
    (lambda: bxml.Pause(length=True), "Pause: length (length) must be int, got bool"),
    (lambda: bxml.SpeakSentence(42), "SpeakSentence: the sentence must be a str, got int"),
]


@pytest.mark.parametrize(("make", "message"), WRONG_TYPES)
def test_a_misspelled_or_mistyped_argument_is_a_type_error(make: Callable[[], object], message: str) -> None:
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def _sized(size: int) -> bxml.Response:
    """A document of exactly ``size`` bytes."""
    base = len(str(bxml.Response(bxml.SpeakSentence("x"))).encode())
    return bxml.Response(bxml.SpeakSentence("x" * (size - base + 1)))


def test_the_16_kb_limit_counts_utf8_bytes_of_the_written_document() -> None:
    assert len(str(_sized(16384)).encode()) == 16384
    over = "the document is 16385 bytes, over the platform's limit of 16384"
    with pytest.raises(bxml.BXMLError, match=over) as caught:
        str(_sized(16385))
    assert caught.value.verb == "Response"
    accented = bxml.Response(bxml.SpeakSentence("é" * 8200))  # about 8300 characters, 16500 bytes
    with pytest.raises(bxml.BXMLError, match="over the platform's limit"):
        str(accented)


def test_a_document_with_urls_left_for_the_receiver_cannot_be_written_as_is() -> None:
    cases: list[tuple[bxml.ResponseVerb, str]] = [
        (bxml.Gather(bxml.SpeakSentence("Press 1")), "Gather: requestUrl is required: pass request_url=..."),
        (bxml.Redirect(request_url_timeout=5000), "Redirect: requestUrl is required"),
        (bxml.Record(transcribe=True), 'Record: transcribeCallbackUrl is required with transcribe="true"'),
        (
            bxml.Transfer(bxml.Record(transcribe=True), transfer_to=TARGET),
            "pass transcribe_callback_url=..., or return the Response from a callhooks handler",
        ),
    ]
    for verb, message in cases:
        with pytest.raises(bxml.BXMLError) as caught:
            str(bxml.Response(verb))
        assert message in str(caught.value)
        assert "Response.with_default_urls" in str(caught.value)
    # Record's requestUrl and Transfer's are optional: the document is complete without them.
    assert "<Record/>" in str(bxml.Response(bxml.Record()))


def test_with_default_urls_fills_only_the_callback_urls_left_out() -> None:
    mine = "https://hooks.example/cb/TOKEN?x=1&y=2"
    given = "https://app.example/given"
    document = bxml.Response(
        bxml.Gather(bxml.SpeakSentence("Press 1"), max_digits=1),
        bxml.Gather(request_url=given),
        bxml.Record(),
        bxml.Record(transcribe=True),
        bxml.Record(request_url=given, transcribe=True, transcribe_callback_url=given),
        bxml.Transfer(bxml.Record(transcribe=True), transfer_to=TARGET),
        bxml.Redirect(request_url_timeout=5000),
    )
    filled = document.with_default_urls(mine)
    assert filled == bxml.Response(
        bxml.Gather(bxml.SpeakSentence("Press 1"), max_digits=1, request_url=mine),
        bxml.Gather(request_url=given),
        bxml.Record(request_url=mine),  # not transcribing: no transcribeCallbackUrl added
        bxml.Record(request_url=mine, transcribe=True, transcribe_callback_url=mine),
        bxml.Record(request_url=given, transcribe=True, transcribe_callback_url=given),
        bxml.Transfer(
            bxml.Record(request_url=mine, transcribe=True, transcribe_callback_url=mine),
            transfer_to=TARGET,
            request_url=mine,
        ),
        bxml.Redirect(request_url=mine, request_url_timeout=5000),
    )
    assert bxml.parse(str(filled)) == filled
    assert filled.with_default_urls("https://other.example/") == filled
    assert document.verbs[0] == bxml.Gather(bxml.SpeakSentence("Press 1"), max_digits=1)  # the original is kept
    with pytest.raises(bxml.BXMLError, match="Response: the default URL must be an absolute http"):
        document.with_default_urls("/relative")


def test_verbs_are_immutable() -> None:
    gather: Any = bxml.Gather(request_url=HOOK)
    with pytest.raises(AttributeError):
        gather.max_digits = 3
