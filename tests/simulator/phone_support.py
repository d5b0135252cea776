"""The phone's test setting: a simulator, and an app that answers the phone's calls and places its own.

Not a test module. The app (``PhoneApp``) records what it saw: the digits of each gather, each call's hangup
cause, the calls that were answered. Inbound calls to ``APP_NUMBER`` reach it (an application owning that
number, as a deployment would have); ``place_call`` makes it call a number.
"""

from __future__ import annotations

import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from callhooks import AsyncCallHandle, CallHooks, events
from callhooks.testing import SimulatorSession, running_simulator

APP_NUMBER = "+19195550100"
PHONE_NUMBER = "+19195551313"
OTHER_NUMBER = "+19195550123"
PROMPT = "Welcome to the phone test. Enter two digits."
HELLO = "Hello from the application."


@dataclass
class Seen:
    """What the app's handlers saw (appended from the receiver's thread; read under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    gathers: list[str] = field(default_factory=list)
    hangups: dict[str, str] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            target = getattr(self, name)
            if isinstance(target, dict):
                target.update([value])
            else:
                target.append(value)

    def snapshot(self, name: str) -> Any:
        with self.lock:
            value = getattr(self, name)
            return dict(value) if isinstance(value, dict) else list(value)


def phone_app(seen: Seen) -> CallHooks:
    """Inbound: a prompt and a two-digit gather, then "You pressed NN". Outbound (context ``placed``): a hello;
    with context ``play``, that audio URL instead."""
    hooks = CallHooks(secret=secrets.token_urlsafe(24))

    @hooks.on("answer")
    async def answered(event: events.AnswerEvent, call: AsyncCallHandle) -> None:
        seen.add("answered", event.call_id)
        if event.context.get("play"):
            await call.play(str(event.context["play"]))
        elif event.context.get("placed"):
            await call.speak(HELLO)
        else:
            await call.gather(max_digits=2, inter_digit_timeout=30, prompt=PROMPT, tag="menu")

    @hooks.on("gather", tag="menu")
    async def gathered(event: events.GatherEvent, call: AsyncCallHandle) -> None:
        seen.add("gathers", event.digits or "")
        if event.digits and event.reason != "hung-up":
            await call.speak(f"You pressed {event.digits}.")

    @hooks.on("hangup")
    async def hung_up(event: events.HangupEvent) -> None:
        seen.add("hangups", (event.call_id, event.cause or ""))

    return hooks


@dataclass
class PhoneEnv:
    session: SimulatorSession
    hooks: CallHooks
    seen: Seen

    def place_call(self, to: str, play: str | None = None) -> str:
        """The app calls ``to`` (and plays ``play`` when answered); returns the call's id."""
        url = self.hooks.callback_url(context={"placed": True, "play": play})
        return str(self.session.client.calls.create(APP_NUMBER, to, callback_url=url, call_timeout=120).id)


def own_number(session: SimulatorSession, hooks: CallHooks, number: str) -> None:
    """An application owning ``number`` sends its inbound calls to ``hooks``."""
    root = f"{session.url}/v1/users/{session.user_id}"
    auth = (session.api_token, session.api_secret)
    url = hooks.callback_url(max_age=None)
    body = {"name": "phone test", "incomingCallUrl": url, "callbackHttpMethod": hooks.callback_http_method}
    created = httpx.post(f"{root}/applications", json=body, auth=auth, timeout=10)
    created.raise_for_status()
    application_id = created.headers["location"].rsplit("/", 1)[-1]
    owned = httpx.post(f"{root}/phoneNumbers", json={"number": number, "applicationId": application_id}, auth=auth)
    owned.raise_for_status()


@contextmanager
def phone_env(**options: Any) -> Iterator[PhoneEnv]:
    """A simulator (real time unless ``options`` say otherwise) and the phone app serving ``APP_NUMBER``."""
    options.setdefault("speed", 1.0)
    seen = Seen()
    hooks = phone_app(seen)
    with running_simulator(**options) as session, session.receiver(hooks):
        own_number(session, hooks, APP_NUMBER)
        yield PhoneEnv(session, hooks, seen)


@dataclass
class PhoneDemo:
    """A running ``callhooks demo --phone``: its process, the phone URL it printed, and its output so far."""

    process: subprocess.Popen[str]
    phone_url: str
    output: list[str]
    console_url: str = ""  #: the receiver's console, as printed (credentials in it)

    def stop(self, timeout: float = 15.0) -> int:
        """Ctrl-C, as a person stops it; returns its exit status once it has exited (within ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@contextmanager
def phone_demo(*argv: str, duration: float = 120.0) -> Iterator[PhoneDemo]:
    """Run ``callhooks demo --phone`` (bounded by ``--duration``) until it prints the phone URL; stop it after."""
    command = [str(Path(sys.executable).parent / "callhooks"), "demo", "--phone", "--duration", str(duration), *argv]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # a reader thread: the test waits on the queue with a deadline, never on a blocking read
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, name="phone-demo-output", daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        phone_url = console_url = None
        while phone_url is None or console_url is None:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"callhooks demo --phone exited early: {''.join(output)}")
            if line.startswith("phone: "):
                phone_url = line.split()[1]
            elif line.startswith("console: "):
                console_url = line.split()[1]
        yield PhoneDemo(process, phone_url, output, console_url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
