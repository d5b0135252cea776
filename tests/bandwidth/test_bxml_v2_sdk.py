"""Every BXML v2 verb, all of its attributes set, makes the document bandwidth-sdk's builder makes (compared parsed).

The SDK (``bandwidth.models.bxml``) is the oracle: the same verb names, the same keyword arguments.
"""

from __future__ import annotations

from typing import Any

import pytest

from callhooks.bandwidth import bxml
from callhooks.xmldoc import attributes_of, text_of
from tests.helpers.xml_documents import every_attribute, tree

sdk = pytest.importorskip("bandwidth.models.bxml")

NUMBERS = {
    "max_digits": 5,
    "inter_digit_timeout": 7,
    "first_digit_timeout": 0,
    "repeat_count": 2,
    "max_duration": 300,
    "silence_timeout": 10,
    "call_timeout": 20,
    "callback_timeout": 25,
    "duration": 2.5,
    "tone_duration": 150,
    "tone_interval": 300,
}
OVERRIDES: dict[str, Any] = {
    "to": "sip:agent@pbx.example",
    "_from": "+15555550100",
    "transfer_caller_id": "Anonymous",
    "uui": "aGVsbG8;encoding=base64",
    "call_ids_to_coach": "c-1,c-2",
    "destination": "wss://media.example/stream?x=1",
    "terminating_digits": "#*",
    "tag": "room-7 & friends",
    "name": "stream-1",
    "voice": "julie",
}
TEXT = {
    "SpeakSentence": "Press 1 & wait",
    "PlayAudio": "https://app.example/a.wav?x=1&y=2",
    "Bridge": "c-95ac8d6e-1a31c52e-b38f",
    "Conference": "room-7.a_b",
    "Endpoint": "e-123",
    "PhoneNumber": "+15555555554",
    "SipUri": "sip:agent@pbx.example",
    "SendDtmf": "12w34#",
    "Tag": "my tag",
}
# Each container: its nested verbs (ours, the SDK's) and the SDK's keyword for them.
CHILDREN: dict[str, tuple[list[Any], list[Any], str]] = {
    "Gather": (
        [bxml.SpeakSentence("Press 1", voice="kate"), bxml.PlayAudio("https://app.example/b.wav")],
        [sdk.SpeakSentence("Press 1", voice="kate"), sdk.PlayAudio("https://app.example/b.wav")],
        "audio_verbs",
    ),
    "Transfer": (
        [bxml.PhoneNumber("+15555555554", tag="x"), bxml.SipUri("sip:a@b.example", uui="u")],
        [sdk.PhoneNumber("+15555555554", tag="x"), sdk.SipUri("sip:a@b.example", uui="u")],
        "transfer_to",
    ),
    "StartStream": (
        [bxml.StreamParam(name="a", value="1"), bxml.StreamParam(name="b", value="2")],
        [sdk.StreamParam(name="a", value="1"), sdk.StreamParam(name="b", value="2")],
        "stream_params",
    ),
    "StartTranscription": (
        [bxml.CustomParam(name="a", value="1")],
        [sdk.CustomParam(name="a", value="1")],
        "custom_params",
    ),
    "Connect": (
        [bxml.Endpoint("e-1"), bxml.Endpoint("e-2")],
        [sdk.Endpoint("e-1"), sdk.Endpoint("e-2")],
        "destination",
    ),
}
VERBS = [cls for cls in bxml.VERBS if cls not in (bxml.Response, bxml.Bxml)]


def _pair(cls: type[bxml.Verb]) -> tuple[bxml.Verb, Any]:
    """The verb with every attribute set, built by callhooks and by the SDK from the same keyword arguments."""
    name = cls.__name__
    values = every_attribute(cls, OVERRIDES, NUMBERS)
    ours: list[Any] = []
    theirs: dict[str, Any] = dict(values)
    text = text_of(cls)
    if text is not None:
        ours.append(TEXT[name])
        theirs[text.field] = TEXT[name]
    if name in CHILDREN:
        mine, sdks, keyword = CHILDREN[name]
        ours.extend(mine)
        theirs[keyword] = sdks
    return cls(*ours, **values), getattr(sdk, name)(**theirs)


def test_every_documented_verb_is_here() -> None:
    names = {cls.__name__ for cls in bxml.VERBS}
    assert len(names - {"Response", "Bxml"}) == 30  # the 30 documented element names
    assert names <= {name for name in dir(sdk) if name[0].isupper()}


@pytest.mark.parametrize("cls", VERBS, ids=lambda cls: cls.__name__)
def test_each_verb_with_every_attribute_matches_the_sdk(cls: type[bxml.Verb]) -> None:
    ours, theirs = _pair(cls)
    for root, sdk_root in ((bxml.Response, sdk.Response), (bxml.Bxml, sdk.Bxml)):
        if root is bxml.Bxml and cls not in bxml.Response.holds:
            continue
        document = root(ours) if cls in bxml.Response.holds else root(_holder(ours))
        expected = sdk_root([theirs]) if cls in bxml.Response.holds else sdk_root([_sdk_holder(theirs)])
        assert tree(str(document)) == tree(expected.to_bxml())
        assert bxml.parse(str(document)) == document
    written = tree(str(bxml.Response(ours) if cls in bxml.Response.holds else bxml.Response(_holder(ours))))
    assert len(_find(written, cls.__name__)[1]) == len(attributes_of(cls))  # every attribute was written


def _holder(verb: Any) -> bxml.Verb:
    """A nested-only verb inside the verb that holds it."""
    if isinstance(verb, bxml.PhoneNumber | bxml.SipUri):
        return bxml.Transfer(verb)
    if isinstance(verb, bxml.StreamParam):
        return bxml.StartStream(verb, destination="wss://m.example/")
    if isinstance(verb, bxml.CustomParam):
        return bxml.StartTranscription(verb)
    return bxml.Connect(verb)


def _sdk_holder(verb: Any) -> Any:
    if isinstance(verb, sdk.PhoneNumber | sdk.SipUri):
        return sdk.Transfer([verb])
    if isinstance(verb, sdk.StreamParam):
        return sdk.StartStream(destination="wss://m.example/", stream_params=[verb])
    if isinstance(verb, sdk.CustomParam):
        return sdk.StartTranscription(custom_params=[verb])
    return sdk.Connect([verb])


def _find(node: Any, name: str) -> Any:
    if node[0] == name:
        return node
    return next(found for child in node[3] if (found := _find(child, name)) is not None)


def test_an_empty_document_and_decimals_match_the_sdk() -> None:
    assert tree(str(bxml.Response())) == tree(sdk.Response().to_bxml())
    assert tree(str(bxml.Bxml())) == tree(sdk.Bxml().to_bxml())
    pause = bxml.Response(bxml.Pause(duration=0.5), bxml.Ring(duration=1.5, answer_call=False))
    assert tree(str(pause)) == tree(sdk.Response([sdk.Pause(0.5), sdk.Ring(1.5, answer_call=False)]).to_bxml())


def test_the_attribute_names_the_sdk_once_misspelled_follow_the_documentation() -> None:
    """Earlier bandwidth-sdk releases wrote ``bridgeTargetCompleteFallback_url``, ``recordCompleteFallback_url``
    and ``recordCompleteFallback_method``, and the Conference name as a ``name`` attribute; the platform documents
    the camelCase names and the name as text. callhooks writes the documented forms (the 23.x SDK agrees now)."""
    document = bxml.Response(
        bxml.Bridge("c-1", bridge_target_complete_fallback_url="https://a.example/f"),
        bxml.Record(record_complete_fallback_url="https://a.example/r", record_complete_fallback_method="GET"),
        bxml.Conference("room-7"),
    )
    bridge, record, conference = tree(str(document))[3]
    assert dict(bridge[1]) == {"bridgeTargetCompleteFallbackUrl": "https://a.example/f"}
    assert dict(record[1]) == {
        "recordCompleteFallbackUrl": "https://a.example/r",
        "recordCompleteFallbackMethod": "GET",
    }
    assert (conference[1], conference[2]) == ((), "room-7")
    for wrong in ("bridgeTargetCompleteFallback_url", "recordCompleteFallback_url", "recordCompleteFallback_method"):
        with pytest.warns(bxml.BXMLWarning, match=f"unknown attribute '{wrong}' ignored"):
            bxml.parse(f'<Response><Record {wrong}="x"/></Response>')


def test_where_the_sdk_adds_defaults_callhooks_leaves_the_platform_s() -> None:
    """The SDK writes ``maxDuration="60"`` on every Record and ``duration="1"`` on every Pause; callhooks writes
    only what was asked for (the platform's defaults are those same values)."""
    assert tree(sdk.Response([sdk.Record(), sdk.Pause()]).to_bxml())[3] == (
        ("Record", (("maxDuration", "60"),), "", ()),
        ("Pause", (("duration", "1"),), "", ()),
    )
    assert tree(str(bxml.Response(bxml.Record(), bxml.Pause())))[3] == (
        ("Record", (), "", ()),
        ("Pause", (), "", ()),
    )


def test_text_and_values_with_markup_stay_text_where_the_sdk_breaks_the_document() -> None:
    """The SDK un-escapes ``&lt;...&gt;`` anywhere in its output, so SSML survives in SpeakSentence; a ``<`` in
    text or in an attribute then makes markup, here a document that is not XML. callhooks keeps text as text."""
    text = "1 <b> 2"
    assert "<b>" in sdk.Response([sdk.SpeakSentence(text)]).to_bxml()
    assert 'tag="<b>"' in sdk.Response([sdk.Redirect(redirect_url="/r", tag="<b>")]).to_bxml()
    document = bxml.Response(bxml.SpeakSentence(text), bxml.Redirect(redirect_url="/r", tag="<b>"))
    assert "&lt;b&gt;" in str(document)
    assert bxml.parse(str(document)) == document
