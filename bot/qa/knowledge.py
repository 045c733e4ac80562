"""The office's knowledge base: YAML files validated as service standards, with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.core.workdays import UNITS
from bot.queue.config import QueueConfig

# Where a value stands in a YAML document: the keys and list indexes leading to it.
Path_ = tuple[str | int, ...]

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


class KnowledgeModel(BaseModel):
    # A misspelt field name is an error, not silently ignored: the clerk must know.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(KnowledgeModel):
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


class Words(KnowledgeModel):
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


def _checked_date(value: Any) -> Any:
    """A calendar date, not in the future (a typo like 2062 would hide a stale fact)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise PydanticCustomError(
            "checked_date", "write the date it was checked as 2026-12-31 (year-month-day)"
        )
    # One day of grace: the clerk's calendar may already be on tomorrow in WIT.
    if value > date.today() + timedelta(days=1):
        raise PydanticCustomError(
            "checked_future", "the date it was checked ({value}) is in the future",
            {"value": value.isoformat()},
        )
    return value


class Source(KnowledgeModel):
    """Where a fee, time or requirement comes from and when someone last checked it there."""

    regulation: str = Field(min_length=1)  # "PP No. 45 Tahun 2024", or the office's standard
    article: str | None = None  # article, paragraph or appendix: "Pasal 22", "Lampiran"
    checked: date

    @field_validator("checked", mode="before")
    @classmethod
    def _valid_checked(cls, value: Any) -> Any:
        return _checked_date(value)

    def __str__(self) -> str:
        return f"{self.regulation}, {self.article}" if self.article else self.regulation


class FeeVariant(KnowledgeModel):
    label: Text
    amount: Rupiah
    source: Source | None = None  # when it differs from the fee's own
    keywords: Words = Field(default_factory=Words)  # words citizens use for this variant


class Fee(KnowledgeModel):
    """Whole rupiah; 0 means free, null means "depends" (explained in ``note``).

    ``label`` names what ``amount`` is for when variants (SIM A vs SIM C, ...) follow.
    """

    amount: Rupiah | None
    label: Text | None = None
    variants: list[FeeVariant] = Field(default_factory=list)
    note: Text | None = None
    legal_basis: Text | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _explained_when_unknown(self) -> Fee:
        if self.amount is None and self.note is None:
            raise PydanticCustomError("fee_note", "a fee without an amount needs a note saying "
                                      "how it is set")
        return self

    @property
    def free(self) -> bool:
        return self.amount == 0 and all(v.amount == 0 for v in self.variants)


def _known_unit(value: str) -> str:
    if value not in UNITS:
        raise PydanticCustomError(
            "unknown_unit", "unknown unit '{unit}'; use one of: {units}",
            {"unit": value, "units": ", ".join(UNITS)},
        )
    return value


Unit = Annotated[str, AfterValidator(_known_unit)]


class DurationVariant(KnowledgeModel):
    """A case with its own time (a lost passport); ``amount`` null when no time is promised,
    which ``note`` then explains."""

    label: Text
    amount: int | None = Field(default=None, ge=0)
    unit: Unit | None = None
    note: Text | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _complete(self) -> DurationVariant:
        if self.amount is not None and self.unit is None:
            raise PydanticCustomError("variant_unit", "give the unit of this amount")
        if self.amount is None and self.note is None:
            raise PydanticCustomError("variant_note", "a case without an amount needs a note "
                                      "saying why no time is promised")
        return self


class Duration(KnowledgeModel):
    amount: int = Field(ge=0)
    unit: Unit
    note: Text | None = None
    variants: list[DurationVariant] = Field(default_factory=list)
    source: Source | None = None


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


class Pin(KnowledgeModel):
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


class TimeRange(KnowledgeModel):
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


class WeekHours(KnowledgeModel):
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


class Channel(KnowledgeModel):
    """A contact or complaint channel: what it is and how to reach it."""

    label: Text
    value: str


class Closure(KnowledgeModel):
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


class Category(KnowledgeModel):
    id: Identifier
    name: Text


class RequirementGroup(KnowledgeModel):
    """Requirements for one case (new, lost, damaged, ...); ``variant`` is a short key."""

    variant: str | None = None
    label: Text | None = None
    keywords: Words = Field(default_factory=Words)  # words citizens use for this case
    items: list[Text] = Field(min_length=1)
    source: Source | None = None


def _known_topic(value: str) -> str:
    if value not in TOPICS:
        raise PydanticCustomError(
            "unknown_topic", "unknown topic '{topic}'; use one of: {topics}",
            {"topic": value, "topics": ", ".join(TOPICS)},
        )
    return value


TopicName = Annotated[str, AfterValidator(_known_topic)]


class Pickup(KnowledgeModel):
    """Collecting the result of an application (the "ready for pickup" notice): where, when,
    by when and what to bring. In office.yaml for every service; a service's own replaces
    each field it gives."""

    counter: Text | None = None  # else the service's location.counter
    hours: WeekHours | None = None  # else the service's hours, else the office's
    # Calendar days after "ready for pickup" to collect it (moved to the next working day).
    deadline_days: int | None = Field(default=None, ge=1, le=365)
    bring: list[Text] | None = Field(default=None, min_length=1)  # else: the receipt only
    note: Text | None = None


# --- the service standard -----------------------------------------------------------------------


class Service(KnowledgeModel):
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
    pickup: Pickup | None = None  # collecting the result; falls back to the office's

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if value == OFFICE_ID:
            raise PydanticCustomError("reserved", "'office' is reserved for the office itself")
        return _service_id(value)

    @field_validator("requirements", mode="before")
    @classmethod
    def _plain_list_is_one_group(cls, value: Any) -> Any:
        # Most services have one list of requirements; variants are the exception. One group
        # may also be written as a mapping, to give the list its source.
        if isinstance(value, dict) and "items" in value:
            return [value]
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
    queue: QueueConfig | None = None  # booking visits (bot/queue/), optional
    pickup: Pickup | None = None  # collecting results, for every service (see Pickup)

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
    # Each service's file and the line of every field in it, to point at a fact to recheck.
    origins: dict[str, tuple[str, dict[Path_, int]]] = field(default_factory=dict, repr=False)

    @property
    def categories(self) -> dict[str, Category]:
        return {c.id: c for c in self.office.categories}

    def services_in(self, category_id: str) -> list[Service]:
        return [s for s in self.services.values() if s.category == category_id]
