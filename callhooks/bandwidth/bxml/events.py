"""Which v2 webhooks expect BXML back, and which verbs a conference's BXML may hold."""

from __future__ import annotations

from typing import Final

__all__ = ["CONFERENCE_EVENTS", "CONFERENCE_VERBS", "SYNCHRONOUS_EVENTS"]

#: The ``eventType`` values whose reply the platform runs as BXML (a ``<Response>``); every other webhook is a
#: notification, answered 204, whose body is ignored. ``recordingComplete`` is the OpenAPI spelling of the
#: documented ``recordComplete``, accepted as the same event.
SYNCHRONOUS_EVENTS: Final = frozenset(
    {
        "initiate",
        "answer",
        "redirect",
        "gather",
        "recordComplete",
        "recordingComplete",
        "transferAnswer",
        "transferComplete",
        "bridgeComplete",
        "bridgeTargetComplete",
        "conferenceCreated",
        "conferenceMemberJoin",
        "conferenceMemberExit",
        "conferenceRedirect",
    }
)

#: The synchronous events whose BXML runs in a conference (an empty 204 is also fine for them).
CONFERENCE_EVENTS: Final = frozenset(
    {"conferenceCreated", "conferenceMemberJoin", "conferenceMemberExit", "conferenceRedirect"}
)

#: The only verbs a conference's BXML may hold; any other rejects the whole document.
CONFERENCE_VERBS: Final = frozenset(
    {"PlayAudio", "SpeakSentence", "StartRecording", "StopRecording", "PauseRecording", "ResumeRecording"}
)
