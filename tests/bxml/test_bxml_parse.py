"""Reading BXML: hostile documents refused before any work is done, errors placed, warnings for what is ignored."""

from __future__ import annotations

import pytest

from callhooks import bxml

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Response><SpeakSentence>&lol9;</SpeakSentence></Response>"""

HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "quadratic blowup": (
        f'<!DOCTYPE r [<!ENTITY a "{"x" * 5000}">]>\n<Response><SpeakSentence>{"&a;" * 1000}</SpeakSentence></Response>'
    ),
    "external entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        "<Response><SpeakSentence>&xxe;</SpeakSentence></Response>"
    ),
    "external parameter entity": (
        '<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>\n<Response/>'
    ),
    "external DTD": '<!DOCTYPE Response SYSTEM "http://127.0.0.1:9/bxml.dtd">\n<Response/>',
    "empty internal subset": "<!DOCTYPE Response []>\n<Response/>",
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("document", HOSTILE.values(), ids=HOSTILE.keys())
def test_document_type_declarations_are_refused_where_they_start(document: str) -> None:
    # Refused at the DOCTYPE itself, so no entity is ever declared, fetched or expanded.
    doctype_line = document[: document.index("<!DOCTYPE")].count("\n") + 1
    with pytest.raises(bxml.BXMLError, match="a document type declaration \\(DTD\\) is not allowed") as caught:
        bxml.parse(document)
    assert caught.value.line == doctype_line
    assert caught.value.verb is None


def test_entity_references_without_a_declaration_are_not_well_formed() -> None:
    with pytest.raises(bxml.BXMLError, match="undefined entity") as caught:
        bxml.parse("<Response>\n  <SpeakSentence>Hi &xxe;</SpeakSentence>\n</Response>")
    assert (caught.value.line, caught.value.column) == (2, 21)


def test_character_references_and_the_predefined_entities_are_read() -> None:
    document = bxml.parse("<Response><SpeakSentence>&lt;&amp;&gt;&quot;&apos;&#233;&#x263A;</SpeakSentence></Response>")
    assert document == bxml.Response(bxml.SpeakSentence("<&>\"'é☺"))


@pytest.mark.timeout(10)
def test_oversized_documents_are_refused_before_parsing() -> None:
    # Not even well-formed: the size check answers first, without reading the XML.
    with pytest.raises(bxml.BXMLError, match="the document is 10000000 bytes, over the platform's limit of 16384"):
        bxml.parse(b"<" * 10_000_000)
    with pytest.raises(bxml.BXMLError, match="the document is 16386 bytes"):
        bxml.parse("é" * 8193)  # 8193 characters, 16386 bytes
    padding = " " * (16384 - len("<Response/>"))
    assert bxml.parse("<Response/>" + padding) == bxml.Response()


@pytest.mark.timeout(10)
def test_nesting_is_checked_at_each_start_tag() -> None:
    deep = "<Response>" + "<Gather>" * 900 + "</Gather>" * 900 + "</Response>"
    with pytest.raises(
        bxml.BXMLError, match="Gather: cannot hold Gather; a Gather holds SpeakSentence, PlayAudio"
    ) as caught:
        bxml.parse(deep)
    assert (caught.value.line, caught.value.column) == (1, 19)  # the second Gather: nothing past it was read


ERRORS = [
    # (document, line, column, message)
    ('<Response>\n  <Pause length="soon"/>\n</Response>', 2, 3, "Pause: length must be a whole number, got 'soon'"),
    (
        '<Response>\n  <Gather requestUrl="https://a.example/" bargeable="yes"/>\n</Response>',
        2,
        3,
        "must be true or false",
    ),
    ("<Response>\n  <Hangup/>\n    <Dial>+19195550100</Dial>\n</Response>", 3, 5, "unknown verb 'Dial'"),
    ("<Response>\n  <Call from='+19195550100'/>\n</Response>", 2, 3, "Call is a pre-GA verb"),
    ("<Response>\n  <SendMessage>Hi</SendMessage>\n</Response>", 2, 3, "SendMessage is a pre-GA verb"),
    (
        "<Response>\n  <PlayAudio digits='1'>https://a.example/a.wav</PlayAudio>\n</Response>",
        2,
        3,
        "PlayAudio: digits is a pre-GA attribute",
    ),
    ("<Gather requestUrl='https://a.example/'/>", 1, 1, "the root element must be Response, not Gather"),
    (
        "<Response>\n<Transfer transferTo='+19195550100'>\n  <Hangup/>\n</Transfer></Response>",
        3,
        3,
        "Transfer: cannot hold",
    ),
    (
        "<Response>\n  <SpeakSentence>Hi <PhoneNumber>1</PhoneNumber></SpeakSentence></Response>",
        2,
        21,
        "SpeakSentence: holds only text, not PhoneNumber",
    ),
    ("<Response>\n  <PhoneNumber>+19195550100</PhoneNumber>\n</Response>", 2, 3, "Response: cannot hold PhoneNumber"),
    ("<Response>\n  Hello\n</Response>", 1, 1, "Response: holds no text, found 'Hello'"),
    ("<Response>\n  <Hangup>now</Hangup>\n</Response>", 2, 3, "Hangup: holds no text"),
    ("<Response>\n  <Pause>\n    <Hangup/>\n  </Pause>\n</Response>", 3, 5, "Pause: holds nothing, not Hangup"),
    ("<Response>\n  <SpeakSentence>  </SpeakSentence>\n</Response>", 2, 3, "SpeakSentence: the sentence is empty"),
    (
        "<Response>\n  <Gather>\n    <SpeakSentence>Hi</SpeakSentence>\n  </Gather>\n</Response>",
        2,
        3,
        "requestUrl is required",
    ),
    ('<Response>\n\n  <Redirect requestUrl="https://a.example/"/>\n</Response>', 3, 3, "requestUrlTimeout is required"),
    ("<Response>\n  <Record transcribe='true'/>\n</Response>", 2, 3, "transcribeCallbackUrl is required"),
    (
        "<Response>\n  <Gather requestUrl='https://a.example/'>\n    <PlayAudio>https://a.example/1.wav</PlayAudio>\n"
        "    <PlayAudio>https://a.example/2.wav</PlayAudio>\n  </Gather>\n</Response>",
        2,
        3,
        "Gather: holds 0 SpeakSentence and 2 PlayAudio",
    ),
    ("<Response>\n  <SendDtmf>12x</SendDtmf>\n</Response>", 2, 3, "SendDtmf: digits must be"),
    ("<Response>\n  <Pause length='1'>\n</Response>", 3, 3, "not well-formed XML: mismatched tag"),
    ("<Response>\n  <Pause length='1' length='2'/>\n</Response>", 2, 21, "not well-formed XML: duplicate attribute"),
    ("", 1, 1, "not well-formed XML: no element found"),
    ("<Response/><Response/>", 1, 12, "not well-formed XML: junk after document element"),
]


@pytest.mark.parametrize(("document", "line", "column", "message"), ERRORS)
def test_errors_say_where(document: str, line: int, column: int, message: str) -> None:
    with pytest.raises(bxml.BXMLError) as caught:
        bxml.parse(document)
    assert message in str(caught.value)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"line {line}, column {column}: ")


def test_wrapped_text_comments_and_the_declaration_are_optional_layout() -> None:
    document = """<!-- the menu -->
<Response>
  <Gather requestUrl="https://app.example/menu" maxDigits="1">
    <SpeakSentence gender="female" locale="en_US" voice="susan">
      Press 1 for sales
      or 2 for support.
    </SpeakSentence>
  </Gather>
  <?app-note keep?>
</Response>"""
    expected = bxml.Response(
        bxml.Gather(
            bxml.SpeakSentence("Press 1 for sales\n      or 2 for support."),
            request_url="https://app.example/menu",
            max_digits=1,
        )
    )
    assert bxml.parse(document) == expected
    assert bxml.parse(DECLARATION + document) == expected
    assert bxml.parse(b"\xef\xbb\xbf" + document.encode()) == expected  # a UTF-8 byte order mark


def test_missing_speech_attributes_take_the_defaults() -> None:
    parsed = bxml.parse("<Response><SpeakSentence gender='male'>Hi</SpeakSentence></Response>")
    assert parsed == bxml.Response(bxml.SpeakSentence("Hi", gender="male", locale="en_US", voice="paul"))


def test_booleans_are_read_in_any_case() -> None:
    parsed = bxml.parse("<Response><Record transcribe='TRUE' transcribeCallbackUrl='https://a.example/t'/></Response>")
    assert parsed == bxml.Response(bxml.Record(transcribe=True, transcribe_callback_url="https://a.example/t"))


def test_unknown_attributes_and_the_pre_ga_pause_spelling_are_warnings() -> None:
    document = '<Response>\n  <Pause duration="10"/>\n  <Hangup reason="done"/>\n</Response>'
    with pytest.warns(bxml.BXMLWarning) as caught:
        parsed = bxml.parse(document)
    assert parsed == bxml.Response(bxml.Pause(length=10), bxml.Hangup())
    assert [str(warning.message) for warning in caught] == [
        "line 2, column 3: Pause: duration is the pre-GA spelling of length",
        "line 3, column 3: Hangup: unknown attribute 'reason' ignored",
    ]
    assert caught[0].filename == __file__  # pointed at the caller of parse
    collected: list[str] = []
    assert bxml.parse(document, on_warning=collected.append) == parsed
    assert len(collected) == 2


def test_relative_urls_need_the_url_that_served_the_document() -> None:
    document = (
        "<Response>\n  <PlayAudio>media/beep.wav</PlayAudio>\n"
        "  <Transfer transferTo='+19195550100' requestUrl='/transferred?x=1'/>\n</Response>"
    )
    with pytest.raises(bxml.BXMLError, match="PlayAudio: the audio URL must be an absolute http\\(s\\) URL") as caught:
        bxml.parse(document)
    assert (caught.value.line, caught.value.column) == (2, 3)
    collected: list[str] = []
    parsed = bxml.parse(document, base_url="https://app.example/ivr/answer", on_warning=collected.append)
    assert parsed == bxml.Response(
        bxml.PlayAudio("https://app.example/ivr/media/beep.wav"),
        bxml.Transfer(transfer_to="+19195550100", request_url="https://app.example/transferred?x=1"),
    )
    assert len(collected) == 2
    assert (
        "Transfer: relative requestUrl '/transferred?x=1' read as 'https://app.example/transferred?x=1'" in collected[1]
    )


def test_a_url_that_cannot_be_split_is_a_bxml_error_even_with_a_base_url() -> None:
    with pytest.raises(bxml.BXMLError, match="PlayAudio: the audio URL must be an absolute http\\(s\\) URL"):
        bxml.parse("<Response><PlayAudio>http://[::1/a.wav</PlayAudio></Response>", base_url="https://a.example/")
    with pytest.raises(bxml.BXMLError, match="Redirect: requestUrl must be an absolute http\\(s\\) URL"):
        bxml.parse(
            "<Response><Redirect requestUrl='http://[::1' requestUrlTimeout='1'/></Response>",
            base_url="https://a.example/",
        )
