"""The Voice API v2 event factories (``callhooks.bandwidth.factories``): one per callback type, realistic and
overridable, and ``bandwidth-sdk``'s callback models (the oracle) read every event they build, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from bandwidth import models as sdk

from callhooks.bandwidth import events as v2
from callhooks.bandwidth.factories import (
    FACTORIES,
    answer_event,
    disconnect_event,
    gather_event,
    record_complete_event,
    transfer_answer_event,
)
from tests.helpers.sdk_fields import assert_read_alike

#: bandwidth-sdk's model of each callback type it has one for (none for the media-stream and real-time
#: transcription events).
SDK_MODELS: dict[str, Any] = {
    "initiate": sdk.InitiateCallback,
    "answer": sdk.AnswerCallback,
    "disconnect": sdk.DisconnectCallback,
    "redirect": sdk.RedirectCallback,
    "gather": sdk.GatherCallback,
    "dtmf": sdk.DtmfCallback,
    "recordComplete": sdk.RecordingCompleteCallback,
    "recordingAvailable": sdk.RecordingAvailableCallback,
    "transcriptionAvailable": sdk.TranscriptionAvailableCallback,
    "machineDetectionComplete": sdk.MachineDetectionCompleteCallback,
    "transferAnswer": sdk.TransferAnswerCallback,
    "transferComplete": sdk.TransferCompleteCallback,
    "transferDisconnect": sdk.TransferDisconnectCallback,
    "bridgeComplete": sdk.BridgeCompleteCallback,
    "bridgeTargetComplete": sdk.BridgeTargetCompleteCallback,
    "conferenceCreated": sdk.ConferenceCreatedCallback,
    "conferenceMemberJoin": sdk.ConferenceMemberJoinCallback,
    "conferenceMemberExit": sdk.ConferenceMemberExitCallback,
    "conferenceRedirect": sdk.ConferenceRedirectCallback,
    "conferenceCompleted": sdk.ConferenceCompletedCallback,
    "conferenceRecordingAvailable": sdk.ConferenceRecordingAvailableCallback,
}


def body(event: v2.BandwidthEvent) -> dict[str, Any]:
    """The event's POST body, as ``send_event`` sends it."""
    fields: dict[str, Any] = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return fields


def test_there_is_a_factory_for_every_callback_type_and_it_builds_that_type() -> None:
    assert set(FACTORIES) == v2.KNOWN_EVENT_TYPES
    for event_type, factory in FACTORIES.items():
        event = factory()
        assert event.event_route_type == event_type and type(event) is not v2.UnknownEvent
        assert v2.parse_event(body(event)) == event  # the body parses back to the same event
        assert v2.call_key(event) is not None  # ids to queue and keep a session by


@pytest.mark.parametrize("event_type", sorted(SDK_MODELS))
def test_bandwidth_sdk_reads_every_event_the_factories_build_with_the_same_values(event_type: str) -> None:
    assert_read_alike(SDK_MODELS[event_type], body(FACTORIES[event_type]()))


def test_keyword_arguments_override_the_defaults_and_move_the_urls_naming_an_id() -> None:
    gather = gather_event("c-1", digits="42", tag="main-menu")
    assert (gather.call_id, gather.digits, gather.tag, gather.call_state) == ("c-1", "42", "main-menu", "answered")
    assert gather.call_url is not None and gather.call_url.endswith("/calls/c-1")
    assert [disconnect_event(cause=cause).call_state for cause in ("hangup", "busy", "timeout")] == [
        "disconnected",
        "busy",
        "no-answer",
    ]
    recorded = record_complete_event("c-2", recording_id="r-7")
    assert recorded.media_url is not None and recorded.media_url.endswith("/calls/c-2/recordings/r-7/media")
    assert answer_event(machine_detection_result={"value": "answering-machine"}).machine_detection_result == (
        v2.MachineDetectionResult(value="answering-machine")
    )
    assert "to" not in body(answer_event(to=None))  # None leaves a field out


def test_defaults_are_realistic_and_fresh() -> None:
    first, second = answer_event(), answer_event()
    assert first.call_id != second.call_id and first.direction == "outbound"
    assert first.event_time is not None and first.answer_time is not None
    leg = transfer_answer_event()
    assert leg.parent_call_id and leg.parent_call_id != leg.call_id and leg.transfer_to
