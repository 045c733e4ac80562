"""Creating, listing and revoking API tokens: the same rules from the command line and the chat."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.api_tokens.models import ApiToken
from bot.core.db import Database
from bot.core.i18n import N_, Translator
from bot.core.models import utcnow
from bot.core.text import escape
from bot.people.roles import audit

# What the back office's configuration file holds: a recognisable prefix (secret scanners and
# people tell it apart from other keys) and 256 random bits.
SECRET_PREFIX = "sbt_"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
# The name API_TOKENS' tokens are audited under (bot/api_tokens/auth.py); no record may take it.
ENV_TOKEN_NAME = "env-token"
UNIT_MAX = 80


class TokenError(Exception):
    """A refused request; ``msgid`` is English and translated where it is shown."""

    def __init__(self, code: str, msgid: str, **params: Any) -> None:
        self.code = code
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**params))

    def message(self, tr: Translator) -> str:
        """The reason in the reader's language, HTML-escaped."""
        return tr.gettext(self.msgid).format(**{k: escape(v) for k, v in self.params.items()})


def hash_secret(secret: str) -> str:
    """What is stored and looked up: the SHA-256 of the secret (the secret itself has 256
    random bits, so no salt or slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def clean_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not NAME_RE.fullmatch(cleaned):
        raise TokenError(
            "invalid_name",
            N_("A token's name is 2 to 40 characters: lowercase letters, digits, dot, dash or "
               "underscore, starting with a letter or digit (for example simpel-kependudukan)."),
        )
    if cleaned == ENV_TOKEN_NAME:
        raise TokenError(
            "invalid_name", N_("The name {name} is kept for the tokens of API_TOKENS."),
            name=ENV_TOKEN_NAME,
        )
    return cleaned


def _clean_unit(unit: str | None, known_units: Collection[str] | None) -> str | None:
    cleaned = (unit or "").strip() or None
    if cleaned is None:
        return None
    if len(cleaned) > UNIT_MAX or (known_units is not None and cleaned not in known_units):
        raise TokenError(
            "unknown_unit", N_("Unknown unit {unit}. Units: {units}."),
            unit=cleaned[:UNIT_MAX], units=", ".join(sorted(known_units or ())) or "-",
        )
    return cleaned


def find_token(session: Session, name: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.name == name.strip().lower())).first()


def create_token(
    session: Session,
    *,
    name: str,
    unit: str | None = None,
    actor_id: int | None,
    known_units: Collection[str] | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned this once and stored only as a hash.
    ``unit`` limits the token to one unit's applications and index; ``known_units`` (when
    given) are the units it may name. ``actor_id`` None: made from the command line."""
    now = now or utcnow()
    name = clean_name(name)
    unit = _clean_unit(unit, known_units)
    if find_token(session, name) is not None:
        # Names are never given twice, a revoked one neither: the audit trail names tokens.
        raise TokenError(
            "name_taken", N_("There is already a token named {name}; choose another name."),
            name=name,
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_secret(secret), unit=unit, created_by=actor_id,
                     created_at=now)
    session.add(token)
    session.flush()
    audit(session, actor_id=actor_id, action="api_token.create", subject=name, unit=unit,
          via="chat" if actor_id is not None else "cli")
    return token, secret


def has_active_tokens(db: Database) -> bool:
    with db.session() as session:
        found = select(ApiToken.id).where(col(ApiToken.revoked_at).is_(None)).limit(1)
        return session.exec(found).first() is not None


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, active ones first, then by name."""
    rows = session.exec(select(ApiToken).order_by(col(ApiToken.name))).all()
    return sorted(rows, key=lambda t: (not t.active, t.name))


def revoke_token(
    session: Session, *, name: str, actor_id: int | None, now: datetime | None = None
) -> ApiToken:
    """Refused from the next request on, on every instance (each request reads the table)."""
    now = now or utcnow()
    token = session.exec(
        select(ApiToken).where(ApiToken.name == name.strip().lower()).with_for_update()
    ).first()
    if token is None:
        raise TokenError("not_found", N_("There is no token named {name}."),
                         name=name.strip()[:40])
    if not token.active:
        raise TokenError("already_revoked", N_("The token {name} was already revoked."),
                         name=token.name)
    token.revoked_at = now
    token.revoked_by = actor_id
    session.add(token)
    audit(session, actor_id=actor_id, action="api_token.revoke", subject=token.name,
          via="chat" if actor_id is not None else "cli")
    return token
