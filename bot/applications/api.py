"""HTTP API for the office's back-office system: the same application rules as the chat."""

from __future__ import annotations

import functools
import hmac
import itertools
import logging
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import bot.applications.service as applications_service
from bot.applications.errors import ApplicationError
from bot.applications.models import Application
from bot.applications.service import change_status, get_application, register_application
from bot.applications.statuses import ServiceSteps
from bot.core.i18n import Translator
from bot.core.input_checks import BadJson, control_characters, read_json
from bot.core.runtime import Runtime

log = logging.getLogger(__name__)

StatusName = Literal[
    "received",
    "in_verification",
    "needs_correction",
    "in_process",
    "ready_for_pickup",
    "completed",
    "rejected",
]


# The API's bodies are a few hundred bytes; anything far bigger is refused before it is read.
MAX_BODY_BYTES = 64 * 1024


def _no_control_characters(value: str | None) -> str | None:
    if value is not None and control_characters(value):
        raise ValueError("must not contain control characters (NUL, escape, ...)")
    return value


# Text that a database and a chat can hold: PostgreSQL refuses NUL in text, and escape
# sequences would reach the officers' screens.
Text = Annotated[str, AfterValidator(_no_control_characters)]


class ApplicationIn(BaseModel):
    """A new application, as the back office registers it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_id: Text = Field(min_length=1, max_length=80, description="Knowledge-base service id")
    applicant_name: Text = Field(min_length=2, max_length=200)
    phone: Text | None = Field(default=None, max_length=40, description="Optional, digits")


class StatusIn(BaseModel):
    """A status change; a note is required for needs_correction and rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: StatusName
    note: Text | None = Field(default=None, max_length=1000)


class EventOut(BaseModel):
    status: StatusName
    note: str | None
    at: datetime
    source: str


class ApplicationOut(BaseModel):
    tracking_number: str = Field(description="As printed, e.g. K7QM-3XPA")
    service_id: str
    applicant_name: str
    phone: str | None
    status: StatusName
    status_label: str = Field(description="The service's name for the status (Indonesian)")
    received_at: datetime
    due_at: datetime
    overdue: bool
    allowed_next: list[StatusName]
    history: list[EventOut]


class CreatedOut(ApplicationOut):
    verification_code: str = Field(description="Print it on the receipt with the tracking number")


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status, headers)


_ERROR_STATUS = {"not_found": 404, "illegal_move": 409, "invalid": 422}


def _domain_error(err: ApplicationError) -> JSONResponse:
    return _error(_ERROR_STATUS.get(err.code, 400), err.code, str(err))


def _out(rt: Runtime, session: Any, application: Application) -> dict[str, Any]:
    steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
    payload = ApplicationOut(
        tracking_number=application.display_number,
        service_id=application.service_id,
        applicant_name=application.applicant_name,
        phone=application.phone,
        status=application.status,
        status_label=steps.label(application.status, Translator("id")),
        received_at=application.received_at,
        due_at=application.due_at,
        overdue=application.is_overdue(),
        allowed_next=steps.next_steps(application.status),
        history=[
            EventOut(status=e.status, note=e.note, at=e.at, source=e.source)
            for e in applications_service.history(session, application)
        ],
    )
    return payload.model_dump(mode="json")


async def _body(request: Request, model: type[BaseModel]) -> BaseModel | JSONResponse:
    too_large = _error(
        413, "too_large", f"The request body is over {MAX_BODY_BYTES} bytes."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return too_large
    try:
        data = read_json(bytes(raw) or b"null")
    except BadJson as exc:
        return _error(400, "bad_json", f"The request body is not valid JSON ({exc}).")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
            for e in exc.errors()
        ]
        return _error(422, "invalid", "Some fields are missing or wrong.", fields=fields)


def create_api_app(rt: Runtime) -> Starlette:
    """The API as an ASGI app; self-contained so a webhook server can mount it as it is."""
    tokens = [t.encode() for t in rt.settings.api_tokens]

    def authorised(request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return False
        # Every token is compared, so the time taken does not tell which one nearly matched.
        matches = [hmac.compare_digest(given.strip().encode(), token) for token in tokens]
        return any(matches)

    def guarded(
        endpoint: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        async def run(request: Request) -> JSONResponse:
            if not authorised(request):
                return _error(
                    401, "unauthorized", "Send a valid API token: Authorization: Bearer <token>."
                )
            try:
                return await endpoint(request)
            except ApplicationError as err:
                return _domain_error(err)

        return run

    async def create(request: Request) -> JSONResponse:
        body = await _body(request, ApplicationIn)
        if isinstance(body, JSONResponse):
            return body

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                application = register_application(
                    session,
                    rt,
                    service_id=body.service_id,
                    applicant_name=body.applicant_name,
                    phone=body.phone,
                    actor_id=None,
                    source="api",
                )
                session.flush()
                out = _out(rt, session, application)
                out["verification_code"] = application.verification_code
                return out

        return JSONResponse(await run_in_threadpool(work), 201)

    async def show(request: Request) -> JSONResponse:
        number = request.path_params["tracking_number"]

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                return _out(rt, session, get_application(session, number))

        return JSONResponse(await run_in_threadpool(work))

    async def change(request: Request) -> JSONResponse:
        number = request.path_params["tracking_number"]
        body = await _body(request, StatusIn)
        if isinstance(body, JSONResponse):
            return body

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                application = change_status(
                    session,
                    rt,
                    tracking_number=number,
                    status=body.status,
                    note=body.note,
                    actor_id=None,
                    source="api",
                )
                session.flush()
                return _out(rt, session, application)

        return JSONResponse(await run_in_threadpool(work))

    async def ikm(request: Request) -> JSONResponse:
        from bot.core.models import utcnow
        from bot.surveys.questionnaire import service_unit, survey_config
        from bot.surveys.report import GROUPINGS, build_report, parse_period, report_as_dict

        by = request.query_params.get("by", "service")
        try:
            if by not in GROUPINGS:
                raise ValueError(f"by: use {', '.join(GROUPINGS)}")
            today = utcnow().astimezone(rt.tz).date()
            period = parse_period(request.query_params.get("period", ""), today)
        except ValueError as exc:
            return _error(422, "invalid", str(exc))

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                report = build_report(
                    session, survey_config(rt), period, rt.tz, by=by,
                    unit_of=lambda service_id: service_unit(rt, service_id),
                )
                return report_as_dict(report)

        return JSONResponse(await run_in_threadpool(work))

    async def openapi(_request: Request) -> JSONResponse:
        return JSONResponse(openapi_document(list(rt.knowledge.services)))

    async def no_route(request: Request, exc: Exception) -> JSONResponse:
        # JSON like every other answer of the API (Starlette's own is text/plain).
        if getattr(exc, "status_code", 404) == 405:
            return _error(405, "method_not_allowed", "This method is not allowed here.")
        return _error(404, "not_found", "There is nothing at this address.")

    return Starlette(
        exception_handlers={404: no_route, 405: no_route},
        routes=[
            Route("/api/v1/applications", guarded(create), methods=["POST"]),
            Route("/api/v1/applications/{tracking_number}", guarded(show), methods=["GET"]),
            Route(
                "/api/v1/applications/{tracking_number}/status",
                guarded(change),
                methods=["POST"],
            ),
            Route("/api/v1/ikm", guarded(ikm), methods=["GET"]),
            Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        ]
    )


# What the rules check beyond the models' types, written into the document so that a request
# the document allows is one the API takes: two visible characters in a name, 6 to 15 digits
# in a phone number, a note with every move that needs one.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_NO_CONTROL_PATTERN = f"^[^{_CONTROL}]*$"


@functools.cache
def _name_pattern() -> str:
    """Two visible characters, none refused: what is left of a name after bot/core/names.py drops
    the invisible (format) characters."""
    formats = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    ranges, start = [], formats[0]
    for previous, current in itertools.pairwise([*formats, -1]):
        if current != previous + 1:
            ranges.append(chr(start) if start == previous else f"{chr(start)}-{chr(previous)}")
            start = current
    allowed = f"[^{_CONTROL}]"
    visible = f"[^\\s{_CONTROL}{''.join(ranges)}]"
    return f"^{allowed}*{visible}{allowed}*{visible}{allowed}*$"


_PHONE_PATTERN = r"^[ ().-]*\+?[ ().-]*([0-9][ ().-]*){6,15}$|^[ \t\n\r]*-?[ \t\n\r]*$"
_PERIOD_PATTERN = (
    r"^(month|quarter|semester|year|(19|[2-9][0-9])[0-9]{2}(-(0[1-9]|1[0-2])|-[qQ][1-4]|-[sS][12])?)$"
)


def openapi_document(service_ids: list[str] | None = None) -> dict[str, Any]:
    """OpenAPI 3.1 description, with the schemas taken from the pydantic models above and the
    knowledge base's service ids."""
    schemas: dict[str, Any] = {}
    for model in (ApplicationIn, StatusIn, ApplicationOut, CreatedOut):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    fields = schemas["ApplicationIn"]["properties"]
    if service_ids is not None:
        fields["service_id"]["enum"] = sorted(service_ids)
    fields["applicant_name"]["pattern"] = _name_pattern()
    phone = next(s for s in fields["phone"]["anyOf"] if s.get("type") == "string")
    phone["pattern"] = _PHONE_PATTERN
    note = next(s for s in schemas["StatusIn"]["properties"]["note"]["anyOf"]
                if s.get("type") == "string")
    note["pattern"] = _NO_CONTROL_PATTERN
    schemas["StatusIn"]["if"] = {
        "properties": {"status": {"enum": ["needs_correction", "rejected"]}}
    }
    schemas["StatusIn"]["then"] = {
        "required": ["note"],
        "properties": {"note": {"type": "string", "pattern": r"\S"}},
    }
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "array", "items": {"type": "object"}},
                },
                "required": ["code", "message"],
            }
        },
    }

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def response(description: str, schema: str) -> dict[str, Any]:
        content = {"application/json": {"schema": ref(schema)}}
        return {"description": description, "content": content}

    errors = {
        "400": response("The body is not JSON (or too deeply nested)", "Error"),
        "401": response("Missing or wrong token", "Error"),
        "413": response("The body is over 64 KiB", "Error"),
        "404": response("No such tracking number", "Error"),
        "422": response("Invalid fields", "Error"),
    }
    number = {
        "name": "tracking_number",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "With or without the dash, any case",
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "servicebot applications API", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/applications": {
                "post": {
                    "summary": "Register an application received at the counter",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("ApplicationIn")}},
                    },
                    "responses": {"201": response("Registered", "CreatedOut"), **errors},
                }
            },
            "/api/v1/applications/{tracking_number}": {
                "get": {
                    "summary": "An application with its history",
                    "parameters": [number],
                    "responses": {"200": response("Found", "ApplicationOut"), **errors},
                }
            },
            "/api/v1/applications/{tracking_number}/status": {
                "post": {
                    "summary": "Move an application to a new status; followers are told",
                    "parameters": [number],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": ref("StatusIn")}},
                    },
                    "responses": {
                        "200": response("Changed", "ApplicationOut"),
                        "409": response("Not an allowed move; the message says why", "Error"),
                        **errors,
                    },
                }
            },
            "/api/v1/ikm": {
                "get": {
                    "summary": "Satisfaction index (IKM) of a period, per service, unit or overall",
                    "parameters": [
                        {
                            "name": "period",
                            "in": "query",
                            "schema": {"type": "string", "pattern": _PERIOD_PATTERN},
                            "description": "2026-11, 2026-Q3, 2026-S1, 2026, "
                            "2026-01-01..2026-03-31, or month/quarter/semester/year (current);"
                            " default the current month",
                        },
                        {
                            "name": "by",
                            "in": "query",
                            "schema": {"enum": ["service", "unit", "overall"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "NRR per element, index, grade and sample check",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": errors["401"],
                        "422": errors["422"],
                    },
                }
            },
        },
    }


class ApiServer:
    """Runs the API with uvicorn in a thread of the bot's process, beside long polling."""

    def __init__(self, rt: Runtime) -> None:
        import uvicorn

        config = uvicorn.Config(
            create_api_app(rt),
            host=rt.settings.api_host,
            port=rt.settings.api_port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self) -> None:
        self.thread.start()
        log.info("API listening on %s:%s", self.server.config.host, self.server.config.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
