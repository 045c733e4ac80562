"""An applicant's messages to the office about an application (a reply to "needs correction",
a photo or a file of the missing document) and the officer's answers, both through the outbox.

The applicant's message goes to the officer who asked for the correction, while they are still
an officer, else to the officers' group; the answer button under it lets any officer answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.applications.errors import InvalidInput, NotFound
from bot.applications.models import Application, ApplicationEvent, ApplicationMessage
from bot.applications.statuses import FINAL_STATUSES, NEEDS_CORRECTION, ServiceSteps
from bot.core.i18n import N_, Translator
from bot.core.models import User, utcnow
from bot.core.runtime import Runtime
from bot.core.text import escape
from bot.outbox.store import enqueue
from bot.people.roles import audit, has_role, role_of
from bot.telegram_rules.callback import CallbackData

TO_OFFICE, TO_CITIZEN = "to_office", "to_citizen"
PHOTO, DOCUMENT = "photo", "document"
MAX_TEXT = 2000
CAPTION_TEXT = 500  # of the applicant's caption under a copied photo (captions hold 1,024)
REPLY_PREFIX = "st"  # the applicant's button: st:rp:<application id>
ANSWER_PREFIX = "ar"  # the officer's button: ar:an:<message id>
LANGUAGE_NAMES = {"id": N_("Indonesian"), "en": N_("English")}


def office_contact(session: Session, rt: Runtime, application: Application) -> int | None:
    """Where the applicant's reply goes: the officer who last asked for a correction (while
    still an officer), else the officers' group (OFFICERS_CHAT_ID, else COMPLAINTS_CHAT_ID);
    None when neither exists."""
    actor = session.exec(
        select(ApplicationEvent.actor_id)
        .where(
            ApplicationEvent.application_id == application.id,
            ApplicationEvent.status == NEEDS_CORRECTION,
        )
        .order_by(ApplicationEvent.at.desc(), ApplicationEvent.id.desc())
    ).first()
    if actor is not None and has_role(role_of(session, actor, rt.settings.admin_ids), "officer"):
        return actor
    # The officers' group, as for questions handed to an officer (handlers/feedback.py).
    return rt.settings.officers_chat_id or rt.settings.complaints_chat_id


def reply_button(tr: Translator, application: Application) -> dict[str, Any]:
    """The applicant's button under a notice or an answer (the Bot API's JSON shape)."""
    data = CallbackData(REPLY_PREFIX, "rp", application.id).pack()
    label = tr.gettext("✉️ Reply or send the document")
    return {"inline_keyboard": [[{"text": label, "callback_data": data}]]}


def _answer_button(tr: Translator, message: ApplicationMessage) -> dict[str, Any]:
    data = CallbackData(ANSWER_PREFIX, "an", message.id).pack()
    label = tr.gettext("↩️ Answer the applicant")
    return {"inline_keyboard": [[{"text": label, "callback_data": data}]]}


def _language(session: Session, rt: Runtime, telegram_id: int) -> str:
    user = session.get(User, telegram_id) if telegram_id > 0 else None
    return (user.language if user is not None else None) or rt.settings.default_locale


def _clean_text(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip() or None
    if text is None and required:
        raise InvalidInput(N_("Please write the message as text."))
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInput(N_("The message is too long (at most 2,000 characters)."))
    return text


def send_to_office(
    session: Session,
    rt: Runtime,
    *,
    application: Application,
    citizen_id: int,
    text: str | None,
    attachment: str | None = None,
    file_id: str | None = None,
    from_chat_id: int | None = None,
    message_id: int | None = None,
    now: datetime | None = None,
) -> ApplicationMessage:
    """The applicant's message (and the photo or file, copied from their chat) to the office.
    Raises InvalidInput when nobody can receive it, or it is empty or too long."""
    if application.status in FINAL_STATUSES:
        raise InvalidInput(N_("This application is finished; please contact the office."))
    target = office_contact(session, rt, application)
    if target is None:
        raise InvalidInput(
            N_("Nobody at the office takes messages in the chat. Please bring it to the counter.")
        )
    text = _clean_text(text, required=attachment is None)
    row = ApplicationMessage(
        application_id=application.id,
        direction=TO_OFFICE,
        citizen_id=citizen_id,
        officer_id=target if target > 0 else None,
        text=text,
        attachment=attachment,
        file_id=file_id,
        at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    tr = Translator(_language(session, rt, target))
    _ = tr.gettext
    steps = ServiceSteps.of(rt.knowledge.services.get(application.service_id))
    service = rt.knowledge.services.get(application.service_id)
    header = "\n".join([
        _("📨 <b>The applicant writes</b> about {number} ({service}), now {status}:").format(
            number=f"<code>{application.display_number}</code>",
            service=escape(service.name(tr.locale) if service else application.service_id),
            status=escape(steps.label(application.status, tr)),
        ),
        _("Applicant: {name}").format(name=escape(application.applicant_name)),
        _("They read {language}.").format(
            language=_(LANGUAGE_NAMES.get(_language(session, rt, citizen_id), N_("Indonesian")))
        ),
    ])
    markup = _answer_button(tr, row)
    if attachment is not None and from_chat_id is not None and message_id is not None:
        caption = header + (f"\n\n{escape(text[:CAPTION_TEXT])}" if text else "")
        enqueue(session, chat_id=target, method="copyMessage", from_chat_id=from_chat_id,
                message_id=message_id, caption=caption, parse_mode="HTML", reply_markup=markup)
    else:
        enqueue(session, chat_id=target, text=f"{header}\n\n{escape(text)}", reply_markup=markup)
    audit(session, actor_id=citizen_id, action="application.reply",
          subject=application.tracking_number, attachment=attachment)
    return row


def answer_citizen(
    session: Session,
    rt: Runtime,
    *,
    message_id: int,
    officer_id: int,
    text: str,
    now: datetime | None = None,
) -> tuple[ApplicationMessage, Application]:
    """An officer's answer to the applicant's message ``message_id``, queued to the applicant
    in their language, with the reply button again while the application is open."""
    original = session.get(ApplicationMessage, message_id)
    if original is None or original.direction != TO_OFFICE:
        raise NotFound(N_("This message is no longer available."))
    application = session.get(Application, original.application_id)
    text = _clean_text(text, required=True)
    row = ApplicationMessage(
        application_id=application.id,
        direction=TO_CITIZEN,
        citizen_id=original.citizen_id,
        officer_id=officer_id,
        text=text,
        at=now or utcnow(),
    )
    session.add(row)
    tr = Translator(_language(session, rt, original.citizen_id))
    _ = tr.gettext
    open_still = (
        application.status not in FINAL_STATUSES
        and office_contact(session, rt, application) is not None
    )
    enqueue(
        session,
        chat_id=original.citizen_id,
        text=_("💬 <b>The office answers</b> about {number}:").format(
            number=f"<code>{application.display_number}</code>"
        ) + f"\n\n{escape(text)}",
        reply_markup=reply_button(tr, application) if open_still else None,
    )
    audit(session, actor_id=officer_id, action="application.answer",
          subject=application.tracking_number)
    return row, application


def citizen_language(session: Session, rt: Runtime, message_id: int) -> str | None:
    """The language of the applicant behind message ``message_id`` (None: no such message)."""
    original = session.get(ApplicationMessage, message_id)
    if original is None or original.direction != TO_OFFICE:
        return None
    return _language(session, rt, original.citizen_id)
