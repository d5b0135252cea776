"""Scripted far ends (who answers, who is busy, which keys they press) and scenario files.

The far end of a call is the party that is not the application: the callee of an outbound call (looked up
by ``to``) and the caller of an inbound call (looked up by ``from``). Each number can be given a
:class:`FarEnd`; the rest use the default.

A scenario is the same structure in JSON or YAML (keys in snake_case or camelCase)::

    speed: 50
    incoming_call_url: http://127.0.0.1:8000/cb/voice
    default: {answer_after: 0, hangup_after: 60}
    numbers:
      "+19195551313": {outcome: busy}
      "+19195550199": {answer_after: 2, digits: ["1", "1234#"], hangup_after: 30}

Each entry under ``numbers`` inherits every setting it does not give from ``default``. Everything except ``default`` and
``numbers`` is passed to :class:`~callhooks.simulator.Simulator`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..rules import DTMF_OUT
from .scenario_file import ScenarioError, read_scenario_file
from .settings import check_known, close_match, shown

__all__ = ["Behaviours", "FarEnd", "Outcome", "Scenario", "load_scenario"]

Outcome = Literal["answer", "busy", "reject", "no-answer", "manual"]
_OUTCOMES = ("answer", "busy", "reject", "no-answer", "manual")


@dataclass(frozen=True)
class FarEnd:
    """How the other party of a call behaves. All durations are simulated seconds.

    * ``outcome``: ``answer`` (default), ``busy`` (hangup ``USER_BUSY``), ``reject`` (``CALL_REJECTED``)
      or ``no-answer`` (rings until ``callTimeout``). Busy and reject happen after ``answer_after`` too.
      ``manual``: a person drives it (the phone page, the control API's ``/_sim/calls/{id}/…`` actions, the
      test kit): it rings until answered, rejected or ``callTimeout`` and hangs up only when told to
      (``answer_after`` and ``hangup_after`` are ignored); keys it is told to press come on top of ``digits``.
    * ``answer_after``: ring time before the outcome; at or beyond the call's ``callTimeout`` it times out.
    * ``hangup_after``: the far end hangs up this long after answer (``None``: never; the app must).
    * ``hangup_on``: ``answer`` counts ``hangup_after`` from the answer; ``prompt`` from the end of the first
      speak or playback it hears in full (a sales agent who hangs up once told who is calling): what the far
      end does then follows the application, however slowly its handlers run.
    * ``digits``: key presses, one string per gather (or prompt, see ``press_on``); each gather consumes
      the next string, and so does a recording a key can stop (Twilio's ``<Record finishOnKey>``), pressed
      as it starts. ``w``/``,`` pause 0.5 s and ``W`` 1 s, as in ``dtmfOut``.
    * ``press_on``: ``gather`` presses when a gather starts, ``prompt`` when a gather's prompt or a
      speak/playback finishes.
    * ``digit_interval``: the gap before each key press.
    * ``speak_seconds``: once recording starts, the far end talks this long and then hangs up, so the
      recording lasts that long; ``says`` is what it says (the transcription text).
    """

    outcome: Outcome = "answer"
    answer_after: float = 0.0
    hangup_after: float | None = 60.0
    digits: str | Sequence[str] = ()
    press_on: Literal["gather", "prompt"] = "gather"
    hangup_on: Literal["answer", "prompt"] = "answer"
    digit_interval: float = 0.5
    speak_seconds: float | None = None
    says: str | None = None

    def __post_init__(self) -> None:
        # FarEnd(digits="1") reads better than digits=("1",); stored as a tuple either way
        object.__setattr__(self, "digits", (self.digits,) if isinstance(self.digits, str) else tuple(self.digits))
        if self.outcome not in _OUTCOMES:
            hint = close_match(self.outcome, _OUTCOMES) if isinstance(self.outcome, str) else ""
            raise ValueError(f"outcome must be one of {', '.join(_OUTCOMES)}, not {shown(self.outcome)}{hint}")
        if self.press_on not in ("gather", "prompt"):
            raise ValueError(f"press_on must be 'gather' or 'prompt', not {shown(self.press_on)}")
        if self.hangup_on not in ("answer", "prompt"):
            raise ValueError(f"hangup_on must be 'answer' or 'prompt', not {shown(self.hangup_on)}")
        for keys in self.presses:
            # "" is a gather in which nothing is pressed
            if not isinstance(keys, str) or (keys and not DTMF_OUT.fullmatch(keys)):
                raise ValueError(f"digits may only hold 0-9, A-D, #, *, w, W and ',': {shown(keys)}")
        for name in ("answer_after", "hangup_after", "digit_interval", "speak_seconds"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{name} must be a non-negative number of seconds, not {shown(value)}")

    @property
    def presses(self) -> tuple[str, ...]:
        """``digits`` as a tuple of key strings, one per gather (or prompt)."""
        return (self.digits,) if isinstance(self.digits, str) else tuple(self.digits)

    @classmethod
    def busy(cls) -> FarEnd:
        """A line that is busy."""
        return cls(outcome="busy")

    @classmethod
    def rejects(cls, after: float = 0.0) -> FarEnd:
        """A callee who declines the call after ringing ``after`` seconds."""
        return cls(outcome="reject", answer_after=after)

    @classmethod
    def never_answers(cls) -> FarEnd:
        """A phone that rings until the call times out."""
        return cls(outcome="no-answer")

    @classmethod
    def manual(cls) -> FarEnd:
        """A phone driven by hand (see ``outcome``): the phone page's lines."""
        return cls(outcome="manual", hangup_after=None)

    @property
    def is_manual(self) -> bool:
        """Whether a person, not a script, drives this far end."""
        return self.outcome == "manual"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: FarEnd | None = None) -> FarEnd:
        """Build from a scenario/control-API mapping (snake_case or camelCase keys); unknown keys fail.

        Settings the mapping does not give are taken from ``base`` (default: the built-in defaults).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a far end must be a mapping of settings, not {type(data).__name__}")
        values = {_snake(str(key)): value for key, value in data.items()}
        check_known(values, (f.name for f in fields(cls)), "far-end setting")
        return replace(base, **values) if base is not None else cls(**values)


@dataclass
class Behaviours:
    """The far-end script: a default plus overrides per number."""

    default: FarEnd = field(default_factory=FarEnd)
    numbers: dict[str, FarEnd] = field(default_factory=dict)

    def for_number(self, number: str) -> FarEnd:
        """The behaviour of the party at ``number``."""
        return self.numbers.get(number, self.default)

    def as_json(self) -> dict[str, object]:
        """``{"default": {...}, "numbers": {number: {...}}}`` with snake_case settings."""
        numbers = {number: asdict(far_end) for number, far_end in self.numbers.items()}
        return {"default": asdict(self.default), "numbers": numbers}


@dataclass
class Scenario:
    """A parsed scenario file: far-end behaviours plus simulator options (snake_case)."""

    behaviours: Behaviours
    options: dict[str, Any]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: FarEnd | None = None) -> Scenario:
        """Parse the scenario structure (see the module docstring).

        ``default`` starts from ``base`` (default: the built-in far end) and each entry of ``numbers`` from
        ``default``: an entry inherits every setting it does not give. A ``ValueError`` names the entry at fault
        (``default: …``, ``numbers: '+19195551313': …``).
        """
        options = {_snake(str(key)): value for key, value in data.items()}
        default = options.pop("default", None) or {}
        numbers = options.pop("numbers", None) or {}
        if not isinstance(numbers, Mapping):
            raise ValueError(f"numbers: must be a mapping of phone number to far end, not {shown(numbers)}")
        try:
            default_far_end = FarEnd.from_mapping(default, base)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"default: {exc}") from None
        far_ends = {}
        for number, spec in numbers.items():
            if not isinstance(number, str):  # YAML reads an unquoted +19195551313 as the integer 19195551313
                raise ValueError(f'numbers: {shown(number)}: quote phone numbers, e.g. "+19195551313"')
            try:
                far_ends[number] = FarEnd.from_mapping(spec, default_far_end)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"numbers: {shown(number)}: {exc}") from None
        return cls(Behaviours(default_far_end, far_ends), options)


def load_scenario(path: str | Path) -> Scenario:
    """Read a JSON (``.json``) or YAML (anything else) scenario file (see :mod:`.scenario_file`).

    Every problem is one ``ValueError`` line naming the file and the entry at fault (``OSError`` when it
    cannot be read).
    """
    data = read_scenario_file(path)
    try:
        return Scenario.from_mapping(data)
    except ValueError as exc:
        raise ScenarioError(path, str(exc)) from None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
