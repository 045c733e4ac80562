"""Settings read from the environment (and an optional .env file), validated once."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.errors import ConfigError
from bot.core.timewindows import QuietHours

SUPPORTED_LOCALES = ("id", "en")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///data/servicebot.db"
    knowledge_dir: Path = Path("knowledge")
    default_locale: str = "id"
    timezone: str = "Asia/Jakarta"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    # Webhook mode (`servicebot serve`); see docs/deployment.md.
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8000, ge=1, le=65535)
    webhook_url: str = ""  # public base URL; the bot appends WEBHOOK_PATH
    webhook_secret: str = ""  # shared by every instance; required by `serve`
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Messages per second for the whole bot, every instance together (bot/sendrate): Telegram
    # allows about 30; a little below leaves room for timing. Raised only against the
    # emulator, to measure the bot itself.
    telegram_max_calls_per_second: float = Field(default=28.0, gt=0, le=10_000)
    # Per-user flood control; 0 turns it off.
    flood_max_per_minute: int = Field(default=20, ge=0)
    # Personal data older than this many days is anonymised; 0 keeps it.
    retention_days_applications: int = Field(default=730, ge=0)
    retention_days_complaints: int = Field(default=1825, ge=0)
    retention_days_surveys: int = Field(default=365, ge=0)
    retention_days_queue: int = Field(default=365, ge=0)  # queue bookings (bot/queue/)
    # Copies of the messages the bot sent (the outbox's sent rows, e.g. the officers' group post).
    retention_days_messages: int = Field(default=30, ge=0)
    # Complaints (docs/complaints.md): the officers' group, the daily limit per citizen and the
    # time limits in working days.
    complaints_chat_id: int | None = None
    complaints_per_day: int = Field(default=5, ge=1, le=100)
    complaint_verify_days: int = Field(default=3, ge=1, le=60)
    complaint_response_days: int = Field(default=5, ge=1, le=60)
    complaint_resolve_days: int = Field(default=14, ge=1, le=365)
    complaint_silence_days: int = Field(default=10, ge=1, le=60)
    # Knowledge-base complaint categories treated as illegal levies (pungli): highest priority,
    # the shortest time limit, supervisors told at once (bot/complaints/vocabulary.py, TIERS).
    # "biaya" is the sample knowledge base's "fees or illegal levies".
    # The officers' group for questions handed to a person ("Tanya petugas") and the weekly
    # digest of unanswered questions (docs/unanswered-questions.md); COMPLAINTS_CHAT_ID if unset.
    officers_chat_id: int | None = None
    complaint_levy_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["illegal_levy", "pungli", "biaya"]
    )
    # Satisfaction surveys (SKM): questionnaire file (default KNOWLEDGE_DIR/survey.yaml) and
    # the timing of invitations after an application is completed.
    survey_file: Path | None = None
    survey_delay_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    survey_reminder_hours: int = Field(default=24, ge=0, le=24 * 30)  # 0: no reminder
    survey_expiry_days: int = Field(default=7, ge=1, le=90)
    survey_tick_seconds: int = Field(default=30, ge=5, le=3600)
    # A satisfaction report over fewer respondents shows no individual answers, profiles or
    # suggestions (in the chat, the console and the exports): they could point at a person.
    ikm_min_respondents: int = Field(default=5, ge=1, le=1000)
    quiet_hours: str = "21:00-07:00"  # office time; "off" to send at any hour
    port: int = 8080  # the offline web chat (servicebot offline)
    # Bearer tokens of the back-office HTTP API, comma-separated; empty means no API.
    api_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8081, ge=1, le=65535)
    # Where the links the bot gives (the staff console's sign-in links) start; empty:
    # http://127.0.0.1:PORT.
    public_url: str = ""

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a Telegram user id (digits only)")
            return [int(p) for p in parts]
        return value

    @field_validator("complaint_levy_categories", mode="before")
    @classmethod
    def _split_words(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("complaints_chat_id", "officers_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.lstrip("-").isdigit():
                raise ValueError(f"{value!r} is not a Telegram chat id (a group id is negative)")
        return value

    @model_validator(mode="after")
    def _ordered_limits(self) -> Settings:
        # A first response cannot be due before verification, nor a resolution before it.
        if self.complaint_response_days < self.complaint_verify_days:
            raise ValueError(
                "COMPLAINT_RESPONSE_DAYS: must not be less than COMPLAINT_VERIFY_DAYS"
            )
        if self.complaint_resolve_days < self.complaint_response_days:
            raise ValueError(
                "COMPLAINT_RESOLVE_DAYS: must not be less than COMPLAINT_RESPONSE_DAYS"
            )
        return self

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            tokens = [t.strip() for t in value.split(",") if t.strip()]
            for token in tokens:
                # A short token can be guessed; ask for something like `openssl rand -hex 24`.
                if len(token) < 24:
                    raise ValueError(
                        "each token must be at least 24 characters (e.g. openssl rand -hex 24)"
                    )
            return tokens
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown timezone (use e.g. Asia/Jakarta, Asia/Makassar)") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value, ZoneInfo("UTC"))
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("port")
    @classmethod
    def _valid_port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be a TCP port number, 1 to 65535 (0: any free port)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str) -> str:
        # Telegram accepts 1-256 characters of A-Z a-z 0-9 _ - as secret_token.
        if value and not WEBHOOK_SECRET_RE.fullmatch(value):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// on this machine only)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address of the bot")
        return value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises ConfigError naming the environment variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            if not err["loc"]:
                # A check across fields names its variables in the message itself.
                lines.append(message)
                continue
            lines.append(f"{str(err['loc'][0]).upper()}: {message}")
        raise ConfigError("; ".join(lines)) from None
