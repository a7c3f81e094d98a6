"""FastAPI with upstream's 16 signatures, written by hand from the published spec.

Each endpoint echoes what FastAPI parsed, so a 200 shows a request upstream
accepts. ``test_bodies.py`` checks that this app's own OpenAPI document has
the vendored spec's parameters and request bodies, so the signatures are the
ones the spec was generated from.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import Body, FastAPI, Path, Query
from pydantic import BaseModel, Field

V1 = "/api/v1"


class CampaignTargetStatus(str, Enum):  # noqa: UP042 (upstream's spelling)
    pending = "Pending"
    scheduled = "Scheduled"
    in_progress = "In Progress"
    post_processing = "Post-processing"
    finished = "Finished"
    to_review = "To review"
    failed = "Failed"
    waiting = "Waiting"
    sms_scheduled = "SMS Scheduled"


class EHREventType(str, Enum):  # noqa: UP042
    appointment_created = "appointment_created"
    appointment_cancelled = "appointment_cancelled"
    patient_registered = "patient_registered"


class TimeIntervalNoTz(BaseModel):
    start: str
    end: str


class WeekSchedule(BaseModel):
    monday: list[TimeIntervalNoTz] = Field(default_factory=list)
    tuesday: list[TimeIntervalNoTz] = Field(default_factory=list)
    wednesday: list[TimeIntervalNoTz] = Field(default_factory=list)
    thursday: list[TimeIntervalNoTz] = Field(default_factory=list)
    friday: list[TimeIntervalNoTz] = Field(default_factory=list)
    saturday: list[TimeIntervalNoTz] = Field(default_factory=list)
    sunday: list[TimeIntervalNoTz] = Field(default_factory=list)
    tz: str = "US/Eastern"


class TargetInputPhoneNumber(BaseModel):
    value: str
    operating_hours: WeekSchedule | None = None


class PatientInput(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    extra_data: dict[str, Any] | None = None


class TargetInput(BaseModel):
    id: str = Field(default_factory=lambda: "generated")
    external_id: str | None = None
    phone_number: str | TargetInputPhoneNumber
    fallback_phone_number: str | TargetInputPhoneNumber | None = None
    input_data: dict[str, Any] = Field(default_factory=dict)
    patient: PatientInput | None = None
    pre_call_data: dict[str, Any] | None = None


class AddTargetsRequest(BaseModel):
    targets: list[TargetInput] | None = None
    launch: bool = False
    allow_duplicates: bool = True


class DeleteTargetsRequest(BaseModel):
    target_ids: list[str]


class LaunchTargetsRequest(BaseModel):
    target_ids: list[str] | None = None
    count: int | None = None
    prioritize_oldest: bool = False


class UpdateTargetInputDataRequest(BaseModel):
    input_data: dict[str, Any]
    only_if_not_started: bool = True


class RerunFailedWebhooksBody(BaseModel):
    from_date: datetime
    to_date: datetime


def _dump(**values: Any) -> dict[str, Any]:
    return {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else str(v)
        for k, v in values.items()
    }


def upstream_api() -> FastAPI:
    """The app; every endpoint answers 200 with what it was given."""
    app = FastAPI(title="Prosper Voice")

    @app.get(V1 + "/health")
    async def health_check() -> dict[str, Any]:
        return {}

    @app.post(V1 + "/campaigns/{campaign_id}/calls")
    async def campaign_calls(campaign_id: str, body: LaunchTargetsRequest) -> dict[str, Any]:
        return _dump(campaign_id=campaign_id, body=body)

    @app.post(V1 + "/campaigns/{campaign_id}/targets")
    async def add_targets(campaign_id: str, body: AddTargetsRequest) -> dict[str, Any]:
        return _dump(campaign_id=campaign_id, body=body)

    @app.delete(V1 + "/campaigns/{campaign_id}/targets")
    async def delete_targets(campaign_id: str, body: DeleteTargetsRequest) -> dict[str, Any]:
        return _dump(campaign_id=campaign_id, body=body)

    async def targets(
        campaign_id: str,
        page: int = Query(0, ge=0),
        limit: int = Query(10, ge=1, le=100),
        status: Annotated[CampaignTargetStatus | None, Query()] = None,
        from_date: Annotated[datetime | None, Query()] = None,
        to_date: Annotated[datetime | None, Query()] = None,
        from_last_call_date: Annotated[datetime | None, Query()] = None,
        to_last_call_date: Annotated[datetime | None, Query()] = None,
    ) -> dict[str, Any]:
        return _dump(campaign_id=campaign_id, page=page, status=status, from_date=from_date)

    app.get(V1 + "/campaigns/{campaign_id}/targets")(targets)

    @app.get(V1 + "/campaigns/{campaign_id}/variables")
    async def variables(campaign_id: str) -> dict[str, Any]:
        return _dump(campaign_id=campaign_id)

    @app.post(V1 + "/campaigns/{campaign_id}/targets/{target_id}/step/{friendly_id}")
    async def webhook_step(
        target_id: str,
        campaign_id: str,
        friendly_id: str,
        # upstream: a plain dict defaulting to None (the spec has no "null" for it)
        target_data: Annotated[dict[str, Any], Body()] = None,  # noqa: RUF013
    ) -> dict[str, Any]:
        return _dump(target_id=target_id, target_data=target_data)

    @app.post(V1 + "/campaigns/{campaign_id}/ehr-event/{friendly_id}")
    async def ehr_event(
        campaign_id: str,
        friendly_id: str,
        event_type: Annotated[EHREventType, Body()],
        event_data: Annotated[dict[str, Any], Body(default_factory=dict)],
        target_id: Annotated[str | None, Body()] = None,
        external_id: Annotated[str | None, Body()] = None,
    ) -> dict[str, Any]:
        return _dump(event_type=event_type, event_data=event_data)

    @app.post(V1 + "/campaigns/{campaign_id}/webhooks/rerun-failed")
    async def rerun_failed(campaign_id: str, body: RerunFailedWebhooksBody) -> dict[str, Any]:
        return _dump(body=body)

    app.get(V1 + "/campaigns/{campaign_id}/patient/targets")(targets)

    @app.get(V1 + "/call-logs")
    async def list_call_logs(
        page: int = Query(0, ge=0),
        limit: int = Query(200, ge=1, le=1000),
        from_date: Annotated[datetime | None, Query()] = None,
        to_date: Annotated[datetime | None, Query()] = None,
        campaign_id: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        return _dump(page=page, limit=limit, from_date=from_date)

    @app.get(V1 + "/call-logs/{call_log_id}")
    async def get_call_log(
        call_log_id: int = Path(..., json_schema_extra={"ge": 0, "le": 2**63 - 1}),
        include_recordings: bool = Query(False),
    ) -> dict[str, Any]:
        return _dump(call_log_id=call_log_id, include_recordings=include_recordings)

    @app.get(V1 + "/live-calls")
    async def live_calls(
        key: Annotated[str | None, Query()] = None,
        value: Annotated[str | None, Query()] = None,
        call_log_id: Annotated[int | None, Query()] = None,
        user_phone_number: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        return _dump(key=key, call_log_id=call_log_id)

    @app.get(V1 + "/targets/{target_id}")
    async def retrieve_target(target_id: str) -> dict[str, Any]:
        return _dump(target_id=target_id)

    @app.patch(V1 + "/targets/{target_id}")
    async def update_target(target_id: str, body: UpdateTargetInputDataRequest) -> dict[str, Any]:
        return _dump(body=body)

    @app.delete(V1 + "/api-keys/{api_key_id}")
    async def delete_api_key(api_key_id: str) -> dict[str, Any]:
        return _dump(api_key_id=api_key_id)

    return app
