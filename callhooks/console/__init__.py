"""The console: a live web page and JSON API, served by the receiver at ``<receiver path>/_console/``, showing
recent calls, each call's timeline (payloads, handlers, answers, tracebacks) and the rejected requests.

Turned on with ``CallHooks(console=("user", "password"))`` (or ``CALLHOOKS_CONSOLE=user:pass``); see
docs/guides/console.md. Its parts: ``journal`` (monitor records → entries), ``feed`` (entries → this
process's view, or through the store's shared journal), ``view`` (calls, timelines, filters), ``stream``
(server-sent events), ``api`` and ``page`` (HTTP), ``replay`` (an event sent to the receiver again),
``guard`` (the replay POST from this origin only), ``facts`` (the receiver's store).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from ..receiver.gate import BasicAuthGate
from ..signing import CallbackSigner, validate_basic_auth
from . import masking
from .api import EXPORT_FORMAT, console_routes, export_call
from .facts import store_facts
from .feed import ConsoleFeed, JournalStore
from .journal import EntryMaker
from .monitor import ConsoleMonitor
from .replay import Replayer
from .stream import StreamHub
from .view import DEFAULT_CALLS_KEPT, CallView

if TYPE_CHECKING:
    from ..app import CallHooks

__all__ = ["DEFAULT_CALLS_KEPT", "EXPORT_FORMAT", "Console", "JournalStore", "export_call"]

#: The path segment the console is served under, below the receiver's path.
ENDPOINT = "_console"


class Console:
    """The console's parts, wired together. ``open_store``: the app's store opener when its guarantees are on
    (entries then go through the store's shared journal), else ``None`` (this process's entries only);
    ``signer``: the receiver's, to seal exported calls as recorded here; ``receiver``: the receiver it serves
    (its events can then be replayed, and its store is shown)."""

    def __init__(
        self,
        credentials: tuple[str, str],
        *,
        mask_numbers: bool = False,
        calls_kept: int = DEFAULT_CALLS_KEPT,
        open_store: Callable[[], Awaitable[object]] | None = None,
        secrets: Sequence[str] = (),
        signer: CallbackSigner | None = None,
        receiver: CallHooks | None = None,
    ) -> None:
        user, password = validate_basic_auth(credentials)
        if not user or not password:
            raise ValueError("the console needs a user and a password")
        self.credentials = (user, password)
        self.mask_numbers = mask_numbers
        self.view = CallView(calls_kept)
        self.hub = StreamHub()
        self.feed = ConsoleFeed(self.view, self.hub, open_store)
        self.monitor = ConsoleMonitor(EntryMaker(mask=mask_numbers, secrets=[*secrets, password]), self.feed)
        self.replayer = Replayer(
            receiver,
            receiver.urls if receiver is not None else None,
            masked=mask_numbers,
            auth_token=_signing_key(receiver),
        )
        store = (lambda: store_facts(receiver)) if receiver is not None else None
        self.app = BasicAuthGate(
            console_routes(self.view, self.feed, self.hub, signer, replayer=self.replayer, store=store),
            self.credentials,
            realm="callhooks console",
            detail="the console needs its own user and password (HTTP Basic)",
        )

    @classmethod
    def attach(
        cls,
        hooks: CallHooks,
        credentials: tuple[str, str],
        *,
        mask_numbers: bool = False,
        calls_kept: int = DEFAULT_CALLS_KEPT,
        secrets: Sequence[str] = (),
    ) -> Console:
        """A console for ``hooks``: its monitor registered, its pages served at ``_console``, its task stopped
        at shutdown; with ``mask_numbers`` callhooks' log lines are masked too."""
        open_store = hooks.open_store if hooks.delivery.enabled else None
        console = cls(
            credentials,
            mask_numbers=mask_numbers,
            calls_kept=calls_kept,
            open_store=open_store,
            secrets=secrets,
            signer=hooks.signer,  # its exports carry the receiver's seal (fixtures.receiver_seal)
            receiver=hooks,
        )
        hooks.add_monitor(console.monitor)
        hooks.add_endpoint(ENDPOINT, console.app)
        hooks.on_shutdown(console.feed.close)
        if mask_numbers:  # while the receiver is served, not from the moment it is built
            hooks.on_startup(masking.install_log_masking)
            hooks.on_shutdown(masking.uninstall_log_masking)
        return console


def _signing_key(receiver: CallHooks | None) -> str | None:
    """The key a platform that signs its requests signs with (Twilio's auth token, the newest while rotated)."""
    if receiver is None or receiver.platform.name != "twilio":
        return None
    tokens = receiver.settings.auth_token
    return tokens if isinstance(tokens, str) or tokens is None else list(tokens)[-1]
