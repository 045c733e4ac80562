"""HTTP API for the office's back-office system: the same application rules as the chat."""

from __future__ import annotations

import functools
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
from bot.api_tokens.auth import ApiCaller, TokenChecker
from bot.applications.errors import ApplicationError, NotFound
from bot.applications.links import status_link
from bot.applications.models import Application
from bot.applications.service import change_status, get_application, register_application
from bot.applications.statuses import ServiceSteps
from bot.core.i18n import N_, Translator
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
    status_link: str | None = Field(description=(
        "Print it on the receipt (as a QR code too): https://t.me/<bot>?start=st_<number>_<code> "
        "opens the status in the chat and follows the application in one press. Null while the "
        "bot has not started (it learns its own username from Telegram)."))


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


def _other_unit(number: str) -> NotFound:
    """An application of another unit than the token's: answered as if there were none."""
    return NotFound(N_("No application has the tracking number {number}."), number=number)


def create_api_app(rt: Runtime) -> Starlette:
    """The API as an ASGI app; self-contained so a webhook server can mount it as it is."""
    # Named tokens from the database, read on every request (revoked at once everywhere), and
    # the deprecated API_TOKENS (a WARNING when set).
    checker = TokenChecker(rt.db, rt.settings.api_tokens, clock=rt.now)

    def in_unit(caller: ApiCaller, service_id: str) -> bool:
        from bot.surveys.questionnaire import service_unit

        return caller.unit is None or service_unit(rt, service_id) == caller.unit

    async def caller_of(request: Request) -> ApiCaller | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return None
        return await run_in_threadpool(checker.check, given)

    def guarded(
        endpoint: Callable[[Request, ApiCaller], Any],
    ) -> Callable[[Request], Any]:
        async def run(request: Request) -> JSONResponse:
            caller = await caller_of(request)
            if caller is None:
                return _error(
                    401, "unauthorized", "Send a valid API token: Authorization: Bearer <token>."
                )
            try:
                return await endpoint(request, caller)
            except ApplicationError as err:
                return _domain_error(err)

        return run

    async def create(request: Request, caller: ApiCaller) -> JSONResponse:
        body = await _body(request, ApplicationIn)
        if isinstance(body, JSONResponse):
            return body
        if body.service_id in rt.knowledge.services and not in_unit(caller, body.service_id):
            return _error(403, "other_unit", f"This token is for the unit {caller.unit}; the "
                          f"service {body.service_id} belongs to another unit.")

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
                    api_token=caller.name,
                )
                session.flush()
                out = _out(rt, session, application)
                out["verification_code"] = application.verification_code
                out["status_link"] = (status_link(rt.bot_username, application)
                                      if rt.bot_username else None)
                return out

        return JSONResponse(await run_in_threadpool(work), 201)

    async def show(request: Request, caller: ApiCaller) -> JSONResponse:
        number = request.path_params["tracking_number"]

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                application = get_application(session, number)
                if not in_unit(caller, application.service_id):
                    raise _other_unit(application.display_number)
                return _out(rt, session, application)

        return JSONResponse(await run_in_threadpool(work))

    async def change(request: Request, caller: ApiCaller) -> JSONResponse:
        number = request.path_params["tracking_number"]
        body = await _body(request, StatusIn)
        if isinstance(body, JSONResponse):
            return body

        def work() -> dict[str, Any]:
            with rt.db.session() as session:
                found = get_application(session, number, lock=True)
                if not in_unit(caller, found.service_id):
                    raise _other_unit(found.display_number)
                application = change_status(
                    session,
                    rt,
                    tracking_number=number,
                    status=body.status,
                    note=body.note,
                    actor_id=None,
                    source="api",
                    api_token=caller.name,
                )
                session.flush()
                return _out(rt, session, application)

        return JSONResponse(await run_in_threadpool(work))

    async def ikm(request: Request, caller: ApiCaller) -> JSONResponse:
        from bot.core.models import utcnow
        from bot.surveys.questionnaire import survey_config
        from bot.surveys.report import GROUPINGS, parse_period, report_as_dict
        from bot.surveys.scoped import scoped_report

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
                # A unit's token gets that unit's figures only.
                report = scoped_report(session, rt, survey_config(rt), period, by=by,
                                       unit=caller.unit)
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
        "401": response("Missing, wrong or revoked token", "Error"),
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
        "info": {
            "title": "servicebot applications API",
            "version": "1",
            "description": "Authenticate with a named token made by an admin (`servicebot "
            "token create NAME`, or /token in the chat): `Authorization: Bearer <token>`. "
            "Every change is audited with the token's name. A token limited to a unit sees and "
            "changes that unit's applications and index only; another unit's application is "
            "answered 404.",
        },
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
                    "responses": {
                        "201": response("Registered", "CreatedOut"),
                        "403": response("The token is limited to another unit", "Error"),
                        **errors,
                    },
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
