"""Questions and answers on Telegram: free-text questions, browsing services, service cards."""

from __future__ import annotations

from dataclasses import replace

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core.i18n import Translator
from bot.core.text import escape
from bot.qa.answers import TOPIC_TITLES, Answer, render_topic
from bot.qa.knowledge import TOPICS, KnowledgeBase
from bot.telegram_rules.callback import CallbackData
from handlers.common import (
    GROUP_FEATURES,
    edit_in_place,
    main_menu,
    reply_html,
    runtime,
    translator,
    unknown_button,
)
from handlers.registry import registry

PAGE_SIZE = 6
CARD_TOPICS = tuple(t for t in TOPICS if t != "overview")


# --- keyboards -----------------------------------------------------------------------------


def _menu_rows(tr: Translator) -> list[list[InlineKeyboardButton]]:
    return list(main_menu(tr.gettext).inline_keyboard)


def categories_keyboard(kb: KnowledgeBase, tr: Translator) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                category.name.get(tr.locale),
                callback_data=CallbackData("svc", "cat", n, "0").pack(),
            )
        ]
        for n, category in enumerate(kb.office.categories)
    ]
    return InlineKeyboardMarkup(rows)


def category_keyboard(
    kb: KnowledgeBase, tr: Translator, index: int, page: int
) -> InlineKeyboardMarkup:
    _ = tr.gettext
    services = kb.services_in(kb.office.categories[index].id)
    shown = services[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [
            InlineKeyboardButton(
                s.name(tr.locale), callback_data=CallbackData("svc", "card", arg=s.id).pack()
            )
        ]
        for s in shown
    ]
    paging = []
    if page > 0:
        paging.append(
            InlineKeyboardButton(
                _("◀ Previous"),
                callback_data=CallbackData("svc", "cat", index, str(page - 1)).pack(),
            )
        )
    if (page + 1) * PAGE_SIZE < len(services):
        paging.append(
            InlineKeyboardButton(
                _("Next ▶"), callback_data=CallbackData("svc", "cat", index, str(page + 1)).pack()
            )
        )
    if paging:
        rows.append(paging)
    rows.append(
        [
            InlineKeyboardButton(
                _("⬅ All categories"), callback_data=CallbackData("svc", "cats").pack()
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def card_keyboard(kb: KnowledgeBase, tr: Translator, service_id: str) -> InlineKeyboardMarkup:
    _ = tr.gettext
    buttons = [
        InlineKeyboardButton(
            _(TOPIC_TITLES[t]),
            callback_data=CallbackData("svc", "topic", arg=f"{service_id}:{t}").pack(),
        )
        for t in CARD_TOPICS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    category = kb.services[service_id].category
    index = next(n for n, c in enumerate(kb.office.categories) if c.id == category)
    back = InlineKeyboardButton(
        _("⬅ Back to the list"), callback_data=CallbackData("svc", "cat", index, "0").pack()
    )
    rows.append([back])
    return InlineKeyboardMarkup(rows)


def banners(context: ContextTypes.DEFAULT_TYPE, service_id: str | None, tr: Translator) -> str:
    """What other features put on top of an answer about the service (the queue's disruption
    notices), registered on this Application."""
    rt = runtime(context)
    hooks = registry(context).answer_banners
    return "".join(line for hook in hooks for line in hook(rt, service_id, tr))


def service_buttons(
    context: ContextTypes.DEFAULT_TYPE, service_id: str, tr: Translator
) -> list[InlineKeyboardButton]:
    """Other features' buttons under an answer about the service (the queue's "Book a visit")."""
    rt = runtime(context)
    return [b for hook in registry(context).service_buttons for b in hook(rt, service_id, tr)]


def topic_keyboard(
    tr: Translator, service_id: str, name: str, extra: list[InlineKeyboardButton] | None = None
) -> InlineKeyboardMarkup:
    _ = tr.gettext
    label = _("More about {service}").format(service=name)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label, callback_data=CallbackData("svc", "card", arg=service_id).pack()
                )
            ],
            *([button] for button in extra or ()),
            *_menu_rows(tr),
        ]
    )


# --- sending -------------------------------------------------------------------------------


async def send_answer(update: Update, answer: Answer, markup: InlineKeyboardMarkup) -> None:
    """A location answer is a map pin first, then the floor, counter and hours."""
    chat = update.effective_chat
    if answer.venue and chat is not None:
        await chat.send_venue(
            latitude=answer.venue["latitude"],
            longitude=answer.venue["longitude"],
            title=answer.venue["title"],
            address=answer.venue["address"],
        )
    await reply_html(update, answer.html, markup)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Browse in place; pressing a button twice would not change the message, which
    Telegram refuses with "message is not modified": that is no error for the user."""
    await edit_in_place(
        query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    )


# --- handlers ------------------------------------------------------------------------------


def _browse_text(tr: Translator) -> str:
    return tr.gettext("<b>Our services</b>\nChoose a category:")


async def services_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    tr = translator(update, context)
    await reply_html(update, _browse_text(tr), categories_keyboard(runtime(context).knowledge, tr))


async def menu_services(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await services_command(update, context)


async def service_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every svc: button. Data are checked against the knowledge base: anything else is stale
    or forged and gets the unknown-button answer."""
    query = update.callback_query
    rt = runtime(context)
    kb = rt.knowledge
    tr = translator(update, context)
    data = CallbackData.parse(query.data, "svc", with_id={"cat"})
    if data is None:
        await unknown_button(update, context)
        return
    if data.action == "cats" and data.arg is None:
        await query.answer()
        await _edit(query, _browse_text(tr), categories_keyboard(kb, tr))
        return
    if data.action == "cat" and data.id is not None and (data.arg or "").isdigit():
        index, page = data.id, int(data.arg)
        if index < len(kb.office.categories):
            category = kb.office.categories[index]
            count = len(kb.services_in(category.id))
            if page * PAGE_SIZE < count or page == 0:
                await query.answer()
                text = f"<b>{escape(category.name.get(tr.locale))}</b>\n" + tr.gettext(
                    "Choose a service:"
                )
                await _edit(query, text, category_keyboard(kb, tr, index, page))
                return
    if data.action == "card" and data.arg in kb.services:
        await query.answer()
        answer = render_topic(kb, kb.services[data.arg], "overview", tr, rt.tz)
        html = banners(context, data.arg, tr) + answer.html
        await reply_html(update, html, card_keyboard(kb, tr, data.arg))
        return
    topic = data.arg_parts(2) if data.action == "topic" else None
    if topic is not None and topic[0] in kb.services and topic[1] in TOPICS:
        await query.answer()
        service = kb.services[topic[0]]
        answer = render_topic(kb, service, topic[1], tr, rt.tz)
        answer = replace(answer, html=banners(context, service.id, tr) + answer.html)
        extra = service_buttons(context, service.id, tr)
        markup = topic_keyboard(tr, service.id, service.name(tr.locale), extra)
        await send_answer(update, answer, markup)
        return
    await unknown_button(update, context)


def register(app: Application) -> None:
    app.add_handler(CommandHandler(["layanan", "services"], services_command), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(menu_services, pattern=r"^menu:services$"), GROUP_FEATURES)
    app.add_handler(CallbackQueryHandler(service_button, pattern=r"^svc:"), GROUP_FEATURES)
    # Free text is read by the conversation feature (handlers/conversation.py).
