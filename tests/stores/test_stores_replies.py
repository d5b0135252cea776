"""Each store keeps the first run's reply with the event's record, reads records written before replies were kept,
writes an outcome saved late without undoing what came after it, and takes over a lapsed claim only after a grace."""

from __future__ import annotations

import time

import pytest

from callhooks.stores import Admission, Store
from callhooks.stores.reply import StoredReply, decode_reply, encode_reply
from tests.stores.support import eventually

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MENU = StoredReply(200, "application/xml", b'<?xml version="1.0"?><Response><Hangup/></Response>')


async def test_a_duplicate_gets_the_reply_kept_with_the_record(store: Store) -> None:
    first = Admission("e-1", "w1", 5.0, "call:c-1")
    admitted = await store.admit(first)
    assert admitted.verdict == "run"
    await store.settle(first, admitted.ticket, ok=True, reply=MENU)
    again = await store.admit(Admission("e-1", "w2", 5.0, "call:c-1"))
    record = await store.record("e-1")
    assert again.verdict == "duplicate" and again.reply == MENU
    assert record is not None and record.state == "done" and record.reply == MENU


@pytest.mark.parametrize(
    "reply", [StoredReply(202, None, b""), StoredReply(200, "application/octet-stream", b"\xff\x00")]
)
async def test_a_reply_with_no_type_or_a_body_that_is_not_text_comes_back_as_it_was(
    store: Store, reply: StoredReply
) -> None:
    admission = Admission("e-2", "w1", 5.0, None)
    await store.admit(admission)
    await store.settle(admission, 0, ok=True, reply=reply)
    assert (await store.admit(admission)).reply == reply


async def test_a_record_written_without_a_reply_reads_as_done_with_none(store: Store) -> None:
    # What the version before kept replies wrote (record format 1), and what the step-by-step calls write.
    assert (await store.claim("e-3", "w1", lease=5)).status == "acquired"
    assert await store.finish("e-3", "w1", ok=True)
    record = await store.record("e-3")
    duplicate = await store.admit(Admission("e-3", "w2", 5.0, None))
    assert record is not None and record.state == "done" and record.reply is None
    assert duplicate.verdict == "duplicate" and duplicate.reply is None


def test_a_reply_text_of_another_format_or_damaged_reads_as_none() -> None:
    assert decode_reply(encode_reply(MENU)) == MENU
    assert decode_reply('{"v": 2, "status": 200, "type": null, "body": ""}') is None
    assert decode_reply("not json") is None
    assert decode_reply('{"v": 1, "status": "200", "body": ""}') is None
    assert decode_reply('{"v": 1, "status": 200, "body64": "%%%"}') is None


async def test_an_outcome_whose_record_is_gone_is_written_as_done(store: Store) -> None:
    # A store that lost its data while the handler ran (a Redis restarted empty): the outcome saved later still
    # makes the next delivery a duplicate.
    admission = Admission("e-4", "w1", 5.0, "call:c-4")
    await store.settle(admission, 0, ok=True, reply=MENU)
    record = await store.record("e-4")
    assert record is not None and record.state == "done" and record.reply == MENU
    assert (await store.admit(Admission("e-4", "w2", 5.0, "call:c-4"))).verdict == "duplicate"


async def test_an_outcome_settled_again_leaves_the_session_the_next_event_saved(store: Store) -> None:
    first = Admission("e-5", "w1", 5.0, "call:c-5")
    ticket = (await store.admit(first)).ticket
    await store.settle(first, ticket, ok=True, session={"step": 1})
    second = Admission("e-6", "w1", 5.0, "call:c-5")
    admitted = await store.admit(second)
    assert admitted.verdict == "run" and admitted.session == {"step": 1}
    await store.settle(second, admitted.ticket, ok=True, session={"step": 2})
    await store.settle(first, ticket, ok=True, session={"step": 1})  # saved late: its first try had landed
    assert await store.load_session("call:c-5") == {"step": 2}


async def test_a_lapsed_claim_is_taken_over_after_a_grace_that_a_renewal_ends(store: Store) -> None:
    assert (await store.claim("e-7", "w1", lease=0.2)).status == "acquired"

    async def lapsed() -> bool:
        record = await store.record("e-7")
        return record is not None and record.lease_until < time.time()

    await eventually(lapsed)
    # The first claimer to see the lease ran out starts the grace; the owner, alive after all (its store was
    # away), renews within it and keeps the claim.
    assert (await store.claim("e-7", "w2", lease=5)).status == "running"
    assert await store.renew("e-7", "w1", lease=0.2)
    await eventually(lapsed)
    assert (await store.claim("e-7", "w2", lease=5)).status == "running"  # a new grace: the renewal ended the last

    async def taken() -> bool:
        return (await store.claim("e-7", "w2", lease=5)).status == "acquired"

    await eventually(taken)  # the owner did not come back: taken over once the grace ran out
    assert not await store.renew("e-7", "w1", lease=0.2)
