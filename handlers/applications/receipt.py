"""The registration receipt the officer hands the applicant: the tracking number and code, the
link that opens the status and follows it in one press, and the same link as a QR code."""

from __future__ import annotations

import io

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.applications.links import qr_png, status_link
from bot.applications.models import Application as App
from bot.core.i18n import Translator
from bot.core.models import utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from handlers.applications.shared import due_text, service_name
from handlers.common import reply_html, runtime, translator


def render_receipt(rt: Runtime, application: App, tr: Translator, link: str) -> str:
    """For the officer to print or copy onto the applicant's receipt."""
    _ = tr.gettext
    lines = [
        _("✅ Application registered."),
        "",
        _("Tracking number: <b><code>{number}</code></b>").format(
            number=application.display_number
        ),
        _("Verification code: <b><code>{code}</code></b>").format(
            code=application.verification_code
        ),
        _("Service: {service}").format(service=service_name(rt, application.service_id, tr)),
        _("Applicant: {name}").format(name=escape(application.applicant_name)),
    ]
    if application.phone:
        lines.append(_("Phone: {phone}").format(phone=escape(application.phone)))
    lines += [
        due_text(rt, application, tr, utcnow()),
        "",
        _("Link to follow it (opens the status and follows it in one press): {link}").format(
            link=escape(link)
        ),
        _(
            "Give the applicant the number and code, or let them scan the QR code below. They "
            "can also check it with /cekstatus, or share their phone number there."
        ),
    ]
    return "\n".join(lines)


async def send_receipt(
    update: Update, context: ContextTypes.DEFAULT_TYPE, application: App
) -> None:
    tr = translator(update, context)
    rt = runtime(context)
    link = status_link(context.bot.username, application)
    await reply_html(update, render_receipt(rt, application, tr, link))
    await update.effective_chat.send_photo(
        InputFile(io.BytesIO(qr_png(link)), filename=f"{application.tracking_number}.png"),
        caption=tr.gettext("{number}: scan to follow the application").format(
            number=application.display_number
        ),
    )
