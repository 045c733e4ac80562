"""Who is calling the API: a named token from the database, or one of API_TOKENS (deprecated).

The table is read on every request, so a token revoked on one instance is refused by every
other from its next request on; no cache stands between. The last use is written at most once a
minute per token (a conditional UPDATE, so several instances together write it once too).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.api_tokens.models import ApiToken
from bot.api_tokens.service import ENV_TOKEN_NAME, hash_secret
from bot.core.db import Database
from bot.core.models import utcnow

log = logging.getLogger(__name__)

LAST_USE_EVERY = timedelta(minutes=1)
DEPRECATION = (
    "API_TOKENS is deprecated: its tokens cannot be told apart or revoked one by one. Create a "
    "named token per client with `servicebot token create NAME` (or /token in the chat), give it "
    "to the client, then remove API_TOKENS. Changes made with API_TOKENS are audited as "
    f"{ENV_TOKEN_NAME!r}."
)


@dataclass(frozen=True)
class ApiCaller:
    """The client behind a request: the token's name (the actor in the audit trail) and the unit
    it is limited to (None: the whole office)."""

    name: str
    unit: str | None = None


class TokenChecker:
    """Checks a bearer secret; blocking (one query), so call it from a worker thread."""

    def __init__(
        self,
        db: Database,
        env_tokens: Sequence[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.env_tokens = [t.encode() for t in env_tokens]
        self.clock = clock or utcnow
        if env_tokens:
            log.warning(DEPRECATION)

    def check(self, given: str) -> ApiCaller | None:
        secret = given.strip()
        if not secret:
            return None
        raw = secret.encode("utf-8", "surrogateescape")
        # Every environment token is compared, so the time taken does not tell which one
        # nearly matched.
        if any([hmac.compare_digest(raw, token) for token in self.env_tokens]):
            return ApiCaller(ENV_TOKEN_NAME)
        # Looked up by hash: what the lookup's time could tell is about the hash, which gives
        # nothing away about a secret of 256 random bits.
        digest = hash_secret(secret)
        with self.db.session() as session:
            row = session.exec(
                select(ApiToken.id, ApiToken.name, ApiToken.unit, ApiToken.last_used_at,
                       ApiToken.token_hash)
                .where(ApiToken.token_hash == digest, col(ApiToken.revoked_at).is_(None))
            ).first()
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                return None
            now = self.clock()
            if row.last_used_at is None or now - row.last_used_at >= LAST_USE_EVERY:
                session.execute(
                    update(ApiToken)
                    .where(
                        ApiToken.id == row.id,
                        or_(col(ApiToken.last_used_at).is_(None),
                            col(ApiToken.last_used_at) <= now - LAST_USE_EVERY),
                    )
                    .values(last_used_at=now)
                )
        return ApiCaller(row.name, row.unit)
