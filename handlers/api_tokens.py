"""/token (/tokenapi): admins create, list and revoke the back-office API's named tokens in the
chat (bot/api_tokens; the command line does the same with `servicebot token`)."""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.api_tokens.models import ApiToken
from bot.api_tokens.service import TokenError, create_token, list_tokens, revoke_token
from bot.core.i18n import Translator
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.surveys.questionnaire import service_unit
from handlers.common import GROUP_FEATURES, reply_html, runtime, staff_only, translator

CREATE_WORDS = ("create", "buat")
LIST_WORDS = ("list", "daftar")
REVOKE_WORDS = ("revoke", "cabut")


def _usage(tr: Translator) -> str:
    return tr.gettext(
        "<b>Back-office API tokens</b>\n"
        "/token create NAME [UNIT]: a new token, shown once (a UNIT limits it to that unit's "
        "applications and index)\n"
        "/token list: every token, with its last use\n"
        "/token revoke NAME: refused from now on, on every instance"
    )


def _when(rt: Runtime, moment: datetime | None, tr: Translator) -> str:
    if moment is None:
        return tr.gettext("never")
    return moment.astimezone(rt.tz).strftime("%Y-%m-%d %H:%M")


def _reach(token: ApiToken, tr: Translator) -> str:
    if token.unit is None:
        return tr.gettext("the whole office")
    return tr.gettext("the unit {unit}").format(unit=escape(token.unit))


def _listing(rt: Runtime, tokens: list[ApiToken], tr: Translator) -> str:
    _ = tr.gettext
    if not tokens:
        return _("No API tokens yet. Create one with /token create NAME.")
    lines = [_("<b>Back-office API tokens</b>")]
    for token in tokens:
        line = _("• <b>{name}</b> ({reach}): created {created}, last used {used}").format(
            name=escape(token.name), reach=_reach(token, tr),
            created=_when(rt, token.created_at, tr), used=_when(rt, token.last_used_at, tr),
        )
        if not token.active:
            line += _(", revoked {when}").format(when=_when(rt, token.revoked_at, tr))
        lines.append(line)
    return "\n".join(lines)


@staff_only("admin")
async def token_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    tr = translator(update, context)
    _ = tr.gettext
    args = list(context.args or [])
    action = args.pop(0).lower() if args else ""
    admin = update.effective_user.id
    try:
        if action in CREATE_WORDS and 1 <= len(args) <= 2:
            units = {u for sid in rt.knowledge.services if (u := service_unit(rt, sid))}
            with rt.db.session() as session:
                token, secret = create_token(
                    session, name=args[0], unit=args[1] if len(args) > 1 else None,
                    actor_id=admin, known_units=units,
                )
            await reply_html(update, _(
                "🔑 API token <b>{name}</b>, for {reach}:\n<code>{secret}</code>\n\n"
                "⚠️ This is the only time the token is shown: copy it into the back-office "
                "system now (Authorization: Bearer …). I do not delete this message: delete it "
                "yourself once it is copied."
            ).format(name=escape(token.name), reach=_reach(token, tr), secret=escape(secret)))
        elif action in LIST_WORDS and not args:
            with rt.db.session() as session:
                tokens = list_tokens(session)
            await reply_html(update, _listing(rt, tokens, tr))
        elif action in REVOKE_WORDS and len(args) == 1:
            with rt.db.session() as session:
                token = revoke_token(session, name=args[0], actor_id=admin)
            await reply_html(update, _(
                "Token <b>{name}</b> revoked: every instance refuses it from its next request on."
            ).format(name=escape(token.name)))
        else:
            await reply_html(update, _usage(tr))
    except TokenError as exc:
        await reply_html(update, exc.message(tr))


def register(app: Application) -> None:
    # Private chats only: a secret must never land in a group.
    app.add_handler(
        CommandHandler(["token", "tokenapi"], token_command, filters=filters.ChatType.PRIVATE),
        GROUP_FEATURES,
    )
