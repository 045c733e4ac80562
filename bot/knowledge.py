"""The office's knowledge base: YAML files validated as service standards, with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.workdays import UNITS

# Topics a citizen asks about; the matcher and the answers share this list.
TOPICS = (
    "requirements", "procedure", "fee", "duration", "location", "hours", "product", "overview",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OFFICE_ID = "office"  # reserved: questions about the office as a whole
MAX_ID_LENGTH = 40  # "svc:topic:<id>:requirements" must stay under Telegram's 64 bytes
SERVICE_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TIME_RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one knowledge file, printed as ``file:line: field: what is wrong``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base is invalid; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- building blocks -------------------------------------------------------------------------


class _Model(BaseModel):
    # A misspelt field name is an error, not silently ignored: the clerk must know.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(_Model):
    """Text in Indonesian (required) and English (optional, falls back to Indonesian)."""

    id: str = Field(min_length=1)
    en: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_indonesian(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # "counter: 14"
        if isinstance(value, str):
            return {"id": value}
        return value

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.id


class Words(_Model):
    """Lists of words per language (aliases, keywords)."""

    id: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.id, *self.en]


def _non_negative_rupiah(value: int) -> int:
    if value < 0:
        raise PydanticCustomError(
            "negative_fee", "must not be negative (got {value}); write 0 for a free service",
            {"value": value},
        )
    return value


Rupiah = Annotated[int, AfterValidator(_non_negative_rupiah)]


class FeeVariant(_Model):
    label: Text
    amount: Rupiah
    keywords: Words = Field(default_factory=Words)  # words citizens use for this variant


class Fee(_Model):
    """Whole rupiah; 0 means free, null means "depends" (explained in ``note``).

    ``label`` names what ``amount`` is for when variants (SIM A vs SIM C, ...) follow.
    """

    amount: Rupiah | None
    label: Text | None = None
    variants: list[FeeVariant] = Field(default_factory=list)
    note: Text | None = None
    legal_basis: Text | None = None

    @model_validator(mode="after")
    def _explained_when_unknown(self) -> Fee:
        if self.amount is None and self.note is None:
            raise PydanticCustomError("fee_note", "a fee without an amount needs a note saying "
                                      "how it is set")
        return self

    @property
    def free(self) -> bool:
        return self.amount == 0 and all(v.amount == 0 for v in self.variants)


class Duration(_Model):
    amount: int = Field(ge=0)
    unit: str
    note: Text | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in UNITS:
            raise PydanticCustomError(
                "unknown_unit", "unknown unit '{unit}'; use one of: {units}",
                {"unit": value, "units": ", ".join(UNITS)},
            )
        return value


def _latitude(value: float | None) -> float | None:
    if value is not None and not -90 <= value <= 90:
        raise PydanticCustomError("lat_range", "latitude must be between -90 and 90 (got {v})",
                                  {"v": value})
    return value


def _longitude(value: float | None) -> float | None:
    if value is not None and not -180 <= value <= 180:
        raise PydanticCustomError("lon_range", "longitude must be between -180 and 180 (got {v})",
                                  {"v": value})
    return value


class Pin(_Model):
    lat: float | None = None
    lon: float | None = None

    @field_validator("lat")
    @classmethod
    def _lat_range(cls, value: float | None) -> float | None:
        return _latitude(value)

    @field_validator("lon")
    @classmethod
    def _lon_range(cls, value: float | None) -> float | None:
        return _longitude(value)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Pin:
        if (self.lat is None) != (self.lon is None):
            raise PydanticCustomError("pin", "give both lat and lon, or neither")
        return self


class Location(Pin):
    unit: Text
    counter: Text | None = None
    floor: Text | None = None


class TimeRange(_Model):
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _time_ranges(value: Any) -> Any:
    """'08:00-15:00' or a list of such ranges; 'closed' (or nothing) for a closed day."""
    if value is None or value == "closed" or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        found = TIME_RANGE_RE.match(str(item).strip()) if isinstance(item, str) else None
        if not found:
            raise PydanticCustomError(
                "time_range", "write opening times as \"08:00-15:00\" in quotes, or closed"
            )
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if (h2, m2) <= (h1, m1):
            raise PydanticCustomError("time_range", "the closing time must be after the opening")
        ranges.append({"start": time(h1, m1), "end": time(h2, m2)})
    return ranges


class WeekHours(_Model):
    """Opening hours per weekday; a missing day is closed."""

    monday: list[TimeRange] = Field(default_factory=list)
    tuesday: list[TimeRange] = Field(default_factory=list)
    wednesday: list[TimeRange] = Field(default_factory=list)
    thursday: list[TimeRange] = Field(default_factory=list)
    friday: list[TimeRange] = Field(default_factory=list)
    saturday: list[TimeRange] = Field(default_factory=list)
    sunday: list[TimeRange] = Field(default_factory=list)
    note: Text | None = None

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        return _time_ranges(value)

    def on(self, weekday: int) -> list[TimeRange]:
        return getattr(self, WEEKDAYS[weekday])


class Channel(_Model):
    """A contact or complaint channel: what it is and how to reach it."""

    label: Text
    value: str


class Closure(_Model):
    date: date
    reason: Text


def _service_id(value: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise PydanticCustomError(
            "long_id", "at most {n} characters (ids travel in Telegram buttons)",
            {"n": MAX_ID_LENGTH},
        )
    if not SERVICE_ID_RE.match(value):
        raise PydanticCustomError(
            "bad_id", "'{value}' is not a valid id: use lowercase letters, digits and single "
            "hyphens (e.g. akta-kelahiran)", {"value": value},
        )
    return value


Identifier = Annotated[str, AfterValidator(_service_id)]


class Category(_Model):
    id: Identifier
    name: Text


class RequirementGroup(_Model):
    """Requirements for one case (new, lost, damaged, ...); ``variant`` is a short key."""

    variant: str | None = None
    label: Text | None = None
    keywords: Words = Field(default_factory=Words)  # words citizens use for this case
    items: list[Text] = Field(min_length=1)


def _known_topic(value: str) -> str:
    if value not in TOPICS:
        raise PydanticCustomError(
            "unknown_topic", "unknown topic '{topic}'; use one of: {topics}",
            {"topic": value, "topics": ", ".join(TOPICS)},
        )
    return value


TopicName = Annotated[str, AfterValidator(_known_topic)]


# --- the service standard -----------------------------------------------------------------------


class Service(_Model):
    """One service's standard (Standar Pelayanan, UU 25/2009 art. 21) in two languages."""

    id: str
    category: str
    names: Text = Field(alias="name")
    aliases: Words = Field(default_factory=Words)
    # Extra words for one topic of this service only (e.g. 'retribusi' for a building levy).
    topic_aliases: dict[TopicName, Words] = Field(default_factory=dict)
    description: Text
    legal_basis: list[Text] = Field(min_length=1)  # component 1
    requirements: list[RequirementGroup] = Field(min_length=1)  # 2
    procedure: list[Text] = Field(min_length=1)  # 3
    duration: Duration  # 4
    fee: Fee  # 5
    product: Text  # 6
    facilities: list[Text] = Field(default_factory=list)  # 7
    competence: Text | None = None  # 8
    supervision: Text | None = None  # 9
    complaints: Text | None = None  # 10 (falls back to the office's channels)
    officers: Text | None = None  # 11
    guarantee: Text | None = None  # 12
    safety: Text | None = None  # 13
    evaluation: Text | None = None  # 14
    location: Location
    hours: WeekHours | None = None  # falls back to the office's opening hours
    # Optional renaming/omission of application status steps, read by the status feature.
    statuses: dict[str, Any] | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if value == OFFICE_ID:
            raise PydanticCustomError("reserved", "'office' is reserved for the office itself")
        return _service_id(value)

    @field_validator("requirements", mode="before")
    @classmethod
    def _plain_list_is_one_group(cls, value: Any) -> Any:
        # Most services have one list of requirements; variants are the exception.
        if isinstance(value, list) and value and not all(
            isinstance(item, dict) and "items" in item for item in value
        ):
            return [{"items": value}]
        return value

    def name(self, locale: str) -> str:
        return self.names.get(locale)

    def all_names(self) -> list[str]:
        """Every way the knowledge base names this service, in both languages."""
        return [self.names.id, *([self.names.en] if self.names.en else []), *self.aliases.all()]


class Office(Pin):
    name: str
    address: str
    lat: float
    lon: float
    opening_hours: WeekHours
    closures: list[Closure] = Field(default_factory=list)
    contacts: list[Channel] = Field(default_factory=list)
    service_promise: Text  # maklumat pelayanan
    complaint_channels: list[Channel] = Field(min_length=1)
    complaint_categories: list[Category] = Field(default_factory=list)
    categories: list[Category] = Field(min_length=1)

    @property
    def closed_dates(self) -> set[date]:
        """Joint-leave days and local closures on top of national holidays."""
        return {c.date for c in self.closures}

    def promise(self, locale: str) -> str:
        return self.service_promise.get(locale)


@dataclass
class KnowledgeBase:
    directory: Path
    office: Office
    services: dict[str, Service]  # in file order

    @property
    def categories(self) -> dict[str, Category]:
        return {c.id: c for c in self.office.categories}

    def services_in(self, category_id: str) -> list[Service]:
        return [s for s in self.services.values() if s.category == category_id]


# --- loading with line numbers ---------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _lines(node: yaml.Node, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict:
    """Every path in the document mapped to the (1-based) line where it starts."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = key.start_mark.line + 1
            _lines(value, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)
    return out


def _field_name(loc: Path_) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(file)"


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (check the spelling)",
    "model_type": "expected fields here (name: value lines), see docs/knowledge-base.md",
    "list_type": "expected a list here (lines starting with '- ')",
}


def _problems_from(exc: ValidationError, file: str, lines: dict[Path_, int]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        # Drop pydantic's internal steps (validator names, "[key]" for a bad mapping key).
        loc = tuple(
            p for p in error["loc"]
            if isinstance(p, int) or not (p.startswith("function-") or p == "[key]")
        )
        # A missing field has no line of its own: point at the mapping that lacks it.
        known = loc[:-1] if error["type"] == "missing" else loc
        while known and known not in lines:
            known = known[:-1]
        message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
        problems.append(Problem(file, lines.get(known, 1), _field_name(loc), message))
    return problems


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: much faster


def _read(path: Path, display: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [Problem(display, 1, "(file)", f"cannot read: {exc}")]
    try:
        # One parse: the node tree gives the line numbers, then becomes the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}, [Problem(display, 1, "(file)", "the file is empty")]
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, {}, [Problem(display, line, "yaml", f"syntax error: {exc.problem}")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(display, 1, "yaml", f"syntax error: {exc}")]
    if not isinstance(data, dict):
        return None, {}, [Problem(display, 1, "(file)", "must be a mapping of field: value")]
    return data, _lines(node), []


def _validate(model: type[BaseModel], data: Any, display: str, lines: dict) -> tuple[Any, list]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _problems_from(exc, display, lines)


def load_knowledge(directory: Path | str) -> KnowledgeBase:
    """Read and validate ``office.yaml`` and ``services/*.yaml``; every problem at once."""
    directory = Path(directory)
    problems: list[Problem] = []
    office_path = directory / "office.yaml"
    if not office_path.is_file():
        raise KnowledgeError([Problem(str(office_path), 1, "(file)", "office.yaml is missing")])
    data, lines, found = _read(office_path, str(office_path))
    problems += found
    office = None
    if data is not None:
        office, found = _validate(Office, data, str(office_path), lines)
        problems += found

    services: dict[str, Service] = {}
    where: dict[str, str] = {}
    service_files = sorted((directory / "services").glob("*.yaml"))
    if not service_files:
        problems.append(Problem(str(directory / "services"), 1, "(file)", "no service files"))
    for path in service_files:
        display = str(path)
        data, lines, found = _read(path, display)
        problems += found
        if data is None:
            continue
        service, found = _validate(Service, data, display, lines)
        problems += found
        if service is None:
            continue
        line = lines.get(("id",), 1)
        if service.id in services:
            problems.append(Problem(display, line, "id", f"duplicate service id {service.id!r} "
                                    f"(also in {where[service.id]})"))
            continue
        if office is not None and service.category not in {c.id for c in office.categories}:
            problems.append(Problem(
                display, lines.get(("category",), 1), "category",
                f"unknown category {service.category!r}; office.yaml lists: "
                + ", ".join(c.id for c in office.categories),
            ))
        services[service.id] = service
        where[service.id] = display
    if problems or office is None:
        raise KnowledgeError(problems)
    return KnowledgeBase(directory=directory, office=office, services=services)
