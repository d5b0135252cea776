"""`callhooks replay FILE --url URL` against a real uvicorn server over loopback, and its bad-input paths."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callhooks import CallbackSigner, CallHooks, events
from callhooks.app import Dispatched
from callhooks.cli import main
from callhooks.fixtures import MAX_FIXTURE_BYTES, CallFixture, build_fixture, dump_fixture, receiver_seal
from callhooks.testing import free_port, latest, serve
from tests.replay.test_fixtures import a_call

SECRET = "replay-secret"


class Receiver:
    """A served app that records what each dispatched event was (type, call, context, handler), in order."""

    def __init__(self, hooks: CallHooks, url: str) -> None:
        self.hooks, self.url = hooks, url
        self.seen: list[tuple[str, str | None, dict[str, object], int]] = []
        self.handlers: list[str | None] = []
        hooks.add_observer(self.observe)

    def observe(self, dispatched: Dispatched) -> None:
        event = dispatched.event
        self.seen.append((event.event_type, event.call_id, event.context, dispatched.status))
        self.handlers.append(dispatched.handler.rpartition(".")[2] if dispatched.handler else None)

    def types(self, count: int) -> list[str]:
        """The event types seen, once ``count`` were (observers run just after the answer went out)."""
        seen = latest(lambda: list(self.seen), lambda found: len(found) >= count)
        return [each[0] for each in seen]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = CallHooks(secret=["retired", SECRET], basic_auth=("platform", "s3cret"), public_url="http://x/hooks")

    @hooks.on()
    async def anything(event: events.CallEvent) -> None:
        pass

    @hooks.on("hangup")
    async def failing(event: events.HangupEvent) -> None:
        if event.context.get("fail"):
            raise RuntimeError("handler broke on purpose")

    with serve(hooks) as server:
        yield Receiver(hooks, f"{server.url}/hooks")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLHOOKS_SECRET", f"retired,{SECRET}")
    monkeypatch.setenv("CALLHOOKS_BASIC_AUTH", "platform:s3cret")


def save(tmp_path: Path, fixture: CallFixture) -> str:
    path = tmp_path / "call.json"
    path.write_text(dump_fixture(fixture))
    return str(path)


def sealed(fixture: CallFixture, secrets: str | list[str] = ["retired", SECRET]) -> CallFixture:  # noqa: B006
    """``fixture`` as the receiver with ``secrets`` exports it: sealed as recorded there."""
    seal = receiver_seal(CallbackSigner(secrets), fixture.call_id, [event.context for event in fixture.events])
    return fixture.model_copy(update={"receiver": seal})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_delivers_the_same_events_in_order_with_their_contexts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    fixture = sealed(a_call())
    code, out, err = run(capsys, "replay", save(tmp_path, fixture), "--url", receiver.url, "--timing", "compressed")
    assert (code, err) == (0, "")  # recorded by this receiver: no warning
    assert len(receiver.types(4)) == 4
    assert receiver.seen == [
        ("incomingcall", "c-abc", {}, 200),
        ("answer", "c-abc", {"menu": "main"}, 200),
        ("gather", "c-abc", {"menu": "main", "tries": 1}, 200),
        ("hangup", "c-abc", {"menu": "main"}, 200),
    ]
    lines = out.splitlines()
    assert lines[0].startswith("replaying call c-abc: 4 events over 10 s to http://127.0.0.1:")
    assert lines[1:] == [
        "[1/4] POST incomingcall -> 200",
        "[2/4] POST answer -> 200",
        "[3/4] GET gather -> 200",
        "[4/4] POST hangup -> 200",
    ]


def test_the_same_call_replayed_again_is_a_duplicate_to_the_same_receiver(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    # The receiver's delivery guarantees (its store) know these events: the second replay is answered 200
    # without running a handler, as a platform retry would be. A fresh receiver (or store=None) runs them again.
    path = save(tmp_path, a_call())
    for _ in range(2):
        code, out, _ = run(capsys, "replay", path, "--url", receiver.url, "--timing", "compressed")
        assert code == 0 and out.count("-> 200") == 4
    assert receiver.types(8) == ["incomingcall", "answer", "gather", "hangup"] * 2
    assert receiver.handlers == ["anything", "anything", "anything", "failing"] + [None] * 4


def test_original_timing_waits_out_the_recorded_gaps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    # 40 s of call at x100: at least 0.4 s. Only a lower bound is asserted: a slow machine only adds time.
    answer, hangup = json.dumps({"eventType": "answer", "callId": "c-t"}), json.dumps({"eventType": "hangup"})
    fixture = build_fixture("c-t", [(0, "POST", answer, None, 200), (40, "POST", hangup, None, 200)])
    started = time.monotonic()
    code, out, _ = run(capsys, "replay", save(tmp_path, fixture), "--url", receiver.url, "--speed", "100")
    assert code == 0
    assert time.monotonic() - started >= 0.4
    assert "(x100 original timing)" in out.splitlines()[0]
    assert receiver.types(2) == ["answer", "hangup"]


def test_an_answer_that_is_not_2xx_fails_the_replay_and_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    call = a_call()
    hangup = call.events[3].model_copy(update={"context": {"fail": True}})
    fixture = sealed(call.model_copy(update={"events": [*call.events[:3], hangup]}))
    code, out, err = run(capsys, "replay", save(tmp_path, fixture), "--url", receiver.url, "--timing", "compressed")
    assert code == 1
    assert "[4/4] POST hangup -> 500" in out and "handler-failed" in out
    assert err.strip() == "callhooks replay: 1 of 4 events were not answered 2xx: #4 hangup (500)"
    assert receiver.types(4) == ["incomingcall", "answer", "gather", "hangup"]


def test_a_wrong_secret_gets_403_for_every_event_and_no_handler_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLHOOKS_BASIC_AUTH", "platform:s3cret")
    path = save(tmp_path, a_call())
    code, out, err = run(capsys, "replay", path, "--url", receiver.url, "--secret", "not-it", "--timing", "compressed")
    assert code == 1
    assert out.count("-> 403") == 4 and "token-unknown-key" in out
    assert "#1 incomingcall (403), #2 answer (403), #3 gather (403), #4 hangup (403)" in err
    assert receiver.seen == []


def test_wrong_basic_auth_gets_401(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    path = save(tmp_path, a_call())
    argv = ["replay", path, "--url", receiver.url, "--basic-auth", "platform:guess", "--timing", "compressed"]
    code, out, _ = run(capsys, *argv)
    assert code == 1 and out.count("-> 401") == 4
    assert receiver.seen == []


def test_nothing_listening_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path, environment: None) -> None:
    code, _, err = run(capsys, "replay", save(tmp_path, a_call()), "--url", f"http://127.0.0.1:{free_port()}/hooks")
    assert code == 1
    assert "could not reach http://127.0.0.1:" in err and "Traceback" not in err
    assert "eyJ" not in err  # no token


@pytest.mark.parametrize(
    ("content", "extra", "words"),
    [
        (None, [], ["cannot read", "missing.json"]),
        ("{not json", [], ["call.json", "invalid call fixture", "not valid JSON"]),
        ('{"format": "har/1.2"}', [], ["invalid call fixture", "format", "callhooks.call/1"]),
        (dump_fixture(a_call()), ["--timing", "compressed", "--speed", "2"], ["--speed", "compressed"]),
        (dump_fixture(a_call()), ["--timing", "fast"], ["--timing"]),
        (dump_fixture(a_call()), ["--speed", "0"], ["positive"]),
        (dump_fixture(a_call()), ["--basic-auth", "nocolon"], ["user:password"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    environment: None,
    content: str | None,
    extra: list[str],
    words: list[str],
) -> None:
    path = tmp_path / ("missing.json" if content is None else "call.json")
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "replay", str(path), "--url", "http://127.0.0.1:9/hooks", *extra)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and err.startswith("callhooks: error: ")
    for word in words:
        assert word in err


def test_an_oversized_file_is_refused_without_reading_it_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, environment: None
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(MAX_FIXTURE_BYTES * 64)  # sparse: 1 GiB that costs no disk
    code, _, err = run(capsys, "replay", str(path), "--url", "http://127.0.0.1:9/hooks")
    assert code == 2 and "over the limit" in err


def test_contexts_without_a_secret_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLHOOKS_SECRET", raising=False)
    code, _, err = run(capsys, "replay", save(tmp_path, a_call()), "--url", "http://127.0.0.1:9/hooks")
    assert code == 2 and "CALLHOOKS_SECRET" in err


# -- issue 23, finding 12: a fixture this receiver did not record is replayed with a warning --------------------


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (a_call, "it carries no receiver seal"),  # exported before the seal, or written by hand
        (lambda: sealed(a_call(), "another-receivers-secret"), "it was sealed by another receiver (key "),
        (
            lambda: sealed(a_call()).model_copy(
                update={"events": [e.model_copy(update={"context": {"admin": True}}) for e in a_call().events]}
            ),
            "its call id or contexts were changed after it was recorded",
        ),
        (lambda: sealed(a_call()).model_copy(update={"call_id": "c-other"}), "call id or contexts were changed"),
    ],
    ids=["unsealed", "another-receiver", "contexts-changed", "call-changed"],
)
def test_a_fixture_not_recorded_here_is_replayed_with_a_warning(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    receiver: Receiver,
    environment: None,
    make: Any,
    why: str,
) -> None:
    path = save(tmp_path, make())
    code, out, err = run(capsys, "replay", path, "--url", receiver.url, "--timing", "compressed")
    assert code == 0 and out.count("-> 200") == 4  # still replayed: old fixtures keep working
    assert len(receiver.types(4)) == 4
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"callhooks replay: warning: {path} was not recorded by this receiver (")
    assert why in err and "signed with your secret as they are" in err


@pytest.mark.parametrize("secrets", [SECRET, "retired", ["retired", SECRET]], ids=["newest", "retired", "both"])
def test_a_fixture_sealed_by_any_key_of_this_receiver_is_replayed_without_a_warning(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    receiver: Receiver,
    environment: None,
    secrets: str | list[str],
) -> None:
    path = save(tmp_path, sealed(a_call(), secrets))
    code, _, err = run(capsys, "replay", path, "--url", receiver.url, "--timing", "compressed")
    assert (code, err) == (0, "")


def test_a_fixture_without_contexts_signs_nothing_of_its_own_and_gets_no_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, receiver: Receiver, environment: None
) -> None:
    plain = a_call().model_copy(update={"events": [e.model_copy(update={"context": None}) for e in a_call().events]})
    code, _, err = run(capsys, "replay", save(tmp_path, plain), "--url", receiver.url, "--timing", "compressed")
    assert (code, err) == (0, "")
