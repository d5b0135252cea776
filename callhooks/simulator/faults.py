"""Delivery faults the simulator injects on purpose, and the seeded decisions about which events get them.

Users test their handlers against what the platform may do (docs/platforms/catapult-voice.md#delivery: no ordering or
duplicate promise, one delivery to ``fallbackUrl`` when the first one fails). Five faults, each with a rate (0..1) and
per-event rules (:class:`FaultRule`):

* ``duplicate``: the event is delivered again after its first delivery finished.
* ``concurrent_duplicate``: a second copy goes out at the same time as the first.
* ``reorder``: the event is held back before delivery (simulated seconds), so events of the same call that
  happened up to that long after it may arrive first. ``reorder_jitter`` holds every event back by a random
  amount in ``[0, reorder_jitter]``; a rule holds matching events back by its ``hold``.
* ``fallback_first``: the first attempt "times out": the request is sent, and as soon as it has been
  written the simulator stops waiting and, as the platform does on a failed delivery, sends the event to
  ``fallbackUrl`` (while the first request may still be running); without a ``fallbackUrl`` the event is lost.
* ``drop_after_handler``: the first attempt is answered (the receiver's handler ran) but the answer is
  treated as lost; as on any failed delivery the event then goes to ``fallbackUrl`` (set it to the
  ``callbackUrl`` itself for a redelivery to the same place); without one it is recorded as failed.

Reproducibility: one ``random.Random(seed)`` draws, for every event in the order the simulator produces
them, exactly six numbers in this fixed order: duplicate, concurrent_duplicate, fallback_first,
drop_after_handler, reorder (whether a rule applies), reorder (the amount). While any fault is set they are
drawn whatever the rates, so the same seed and the same call flow give the same decisions, and changing one
rate does not move the others' draws. This module does no I/O; :mod:`.delivery` acts on the :class:`FaultPlan`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_args

from .behaviours import _snake
from .payloads import EventBody
from .settings import check_known

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultKind", "FaultPlan", "FaultRule", "Faults"]

FaultKind = Literal["duplicate", "concurrent_duplicate", "reorder", "fallback_first", "drop_after_handler"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
_RATES = ("duplicate", "concurrent_duplicate", "fallback_first", "drop_after_handler")


def _rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a rate between 0 and 1, not {value!r}")
    return float(value)


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a non-negative number of seconds, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class FaultRule:
    """Apply ``fault`` to the events that match every criterion given (none given: every event).

    * ``event_type``: the event's ``eventType`` (``"gather"``); ``tag``: its ``tag``;
      ``nth``: the Nth event produced for its call (1 is the first).
    * ``rate``: the chance a matching event gets the fault (default 1: always).
    * ``hold``: for ``reorder`` rules (required there, only there): simulated seconds to hold the event back.
    """

    fault: FaultKind
    event_type: str | None = None
    tag: str | None = None
    nth: int | None = None
    rate: float = 1.0
    hold: float | None = None

    def __post_init__(self) -> None:
        if self.fault not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}, not {self.fault!r}")
        _rate("a rule's rate", self.rate)
        if self.nth is not None and (isinstance(self.nth, bool) or not isinstance(self.nth, int) or self.nth < 1):
            raise ValueError(f"nth counts a call's events from 1, not {self.nth!r}")
        for name in ("event_type", "tag"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string, not {value!r}")
        if self.fault == "reorder" and self.hold is None:
            raise ValueError("a reorder rule needs 'hold': how many simulated seconds to hold the event back")
        if self.fault != "reorder" and self.hold is not None:
            raise ValueError(f"'hold' only applies to reorder rules, not to {self.fault}")
        if self.hold is not None:
            _seconds("hold", self.hold)

    def matches(self, event: EventBody, nth: int, name: str | None = None) -> bool:
        """Whether ``event``, the ``nth`` event of its call, is one this rule is about; ``name``: the event's
        name as its platform spells it (default its ``eventType``)."""
        return (
            self.event_type in (None, event.get("eventType") if name is None else name)
            and self.tag in (None, event.get("tag"))
            and self.nth in (None, nth)
        )


@dataclass(frozen=True)
class Faults:
    """Which delivery faults the simulator injects (all off by default). See the module docstring.

    Rates are chances per event between 0 and 1; ``reorder_jitter`` is simulated seconds; ``rules`` apply a
    fault to chosen events (on top of the rates); ``seed`` makes the decisions reproducible (default: the
    simulator's ``seed``, else a random one that the simulator reports).
    """

    duplicate: float = 0.0
    concurrent_duplicate: float = 0.0
    reorder_jitter: float = 0.0
    fallback_first: float = 0.0
    drop_after_handler: float = 0.0
    rules: Sequence[FaultRule] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in _RATES:
            object.__setattr__(self, name, _rate(name, getattr(self, name)))
        object.__setattr__(self, "reorder_jitter", _seconds("reorder_jitter", self.reorder_jitter))
        object.__setattr__(self, "rules", tuple(self.rules))
        if not all(isinstance(rule, FaultRule) for rule in self.rules):
            raise ValueError("rules must be FaultRule objects")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer, not {self.seed!r}")

    @property
    def active(self) -> bool:
        """True when some fault can happen."""
        return bool(self.rules) or any(getattr(self, name) for name in (*_RATES, "reorder_jitter"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Faults:
        """From a scenario file's ``faults:`` section or the control API (snake_case or camelCase keys)."""
        values = _settings(data, cls, "faults")
        rules = values.pop("rules", None) or []
        if not isinstance(rules, list):
            raise ValueError("rules must be a list of rules")
        return cls(**values, rules=tuple(_rule(spec) for spec in rules))

    def as_json(self) -> dict[str, object]:
        """The settings with snake_case keys (``from_mapping`` reads them back); rules omit unset criteria."""
        data: dict[str, object] = {name: getattr(self, name) for name in (*_RATES, "reorder_jitter", "seed")}
        data["rules"] = [
            {f.name: getattr(rule, f.name) for f in fields(rule) if getattr(rule, f.name) is not None}
            for rule in self.rules
        ]
        return data

    def merged(self, **changes: Any) -> Faults:
        """A copy with ``changes`` applied (``None`` values are ignored): how command-line flags override a file."""
        return replace(self, **{name: value for name, value in changes.items() if value is not None})


def _settings(data: object, cls: type[Any], what: str) -> dict[str, Any]:
    """``data`` with snake_case keys, each one a field of the dataclass ``cls``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be a mapping of settings, not {type(data).__name__}")
    values = {_snake(str(key)): value for key, value in data.items()}
    check_known(values, (f.name for f in fields(cls)), f"{what} setting")
    return values


def _rule(spec: object) -> FaultRule:
    values = _settings(spec, FaultRule, "fault rule")
    if "fault" not in values:
        raise ValueError(f"a fault rule needs 'fault' (one of {', '.join(FAULT_KINDS)})")
    return FaultRule(**values)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one event's delivery: the faults decided for it, in :data:`FAULT_KINDS` order."""

    faults: tuple[str, ...] = ()
    hold: float = 0.0  #: simulated seconds the event is held back before it is queued

    def has(self, fault: FaultKind) -> bool:
        return fault in self.faults


NO_FAULTS = FaultPlan()


@dataclass
class FaultInjector:
    """Owns the seeded random source and each call's event count; decides a :class:`FaultPlan` per event."""

    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.configure(self.faults, self.seed)

    def configure(self, faults: Faults, default_seed: int | None = None) -> None:
        """Use ``faults`` from now on; the random source restarts from ``faults.seed`` (or ``default_seed``)
        when one of them is given, and otherwise carries on."""
        seed = faults.seed if faults.seed is not None else default_seed
        if seed is not None:
            self.seed = seed
            self._random = random.Random(seed)
        self.faults = faults

    def plan(self, call_id: str, event: EventBody, name: str | None = None) -> FaultPlan:
        """Decide the faults of ``event`` (named ``name``, default its ``eventType``), the next event of
        ``call_id`` (call once per event, in order)."""
        nth = self._counts.get(call_id, 0) + 1
        self._counts[call_id] = nth
        faults = self.faults
        if not faults.active:
            return NO_FAULTS
        draws = [self._random.random() for _ in range(6)]  # always six: see the module docstring
        matching = [rule for rule in faults.rules if rule.matches(event, nth, name)]
        chosen: list[str] = []
        for draw, name in zip(draws, _RATES, strict=False):
            rate = max([getattr(faults, name)] + [r.rate for r in matching if r.fault == name])
            if draw < rate:
                chosen.append(name)
        hold = draws[5] * faults.reorder_jitter
        holds = [r.hold for r in matching if r.fault == "reorder" and draws[4] < r.rate and r.hold is not None]
        if holds:
            hold = max(holds)
        if hold > 0:
            chosen.append("reorder")
        return FaultPlan(tuple(sorted(chosen, key=FAULT_KINDS.index)), hold)
