"""``parse_form`` decodes a query string or form body exactly as ``parse_qsl(..., keep_blank_values=True)``."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callhooks.events import encode_query, wire_fields
from callhooks.receiver.inbound import parse_form
from callhooks.testing.factories import FACTORIES

# The characters that matter to the decoding, among others: separators, escapes (well-formed or not), plus.
# Backslashes and ``x`` too: ASCII text is decoded by the codec of ``\\xXX`` escapes (inbound._unquote).
_ALPHABET = st.sampled_from(
    [*"ab=&%+ ;#?2Fe3AöÿZ\x00\u00e9\u20ac\\x", "%2B", "%3D", "%26", "%C3%A9", "%FF", "%", "%5C", "%5c", "%00", "%7F",
     "%e2%82%ac", "%E2", "%4", "%x4", "\\x41", "\\\\", "%2f"]
)  # fmt: skip


@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_parse_form_is_parse_qsl_keeping_blank_values(text: str) -> None:
    assert parse_form(text) == parse_qsl(text, keep_blank_values=True)


@pytest.mark.parametrize("event_type", sorted(FACTORIES))
def test_every_event_types_query_decodes_as_parse_qsl_does(event_type: str) -> None:
    query = encode_query(wire_fields(FACTORIES[event_type]()))
    assert parse_form(query) == parse_qsl(query, keep_blank_values=True)
    assert parse_form(query)  # not trivially empty


@pytest.mark.parametrize(
    "text",
    ["v=%5Cx41", "v=\\x41", "v=\\", "v=a\\%41", "v=%4", "v=%zz%41", "v=%E2%82", "v=%E2%82%AC", "v=%c3%a9\\n",
     "v=%", "v=%%41", "v=\\%", "v=%00\\0", "%41%42=%43"],
)  # fmt: skip
def test_escapes_and_backslashes_decode_as_parse_qsl_does(text: str) -> None:
    assert parse_form(text) == parse_qsl(text, keep_blank_values=True)
