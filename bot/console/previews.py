"""The chat's answers as the console previews them before a knowledge file is saved: a topic
of a service or of the office, a situation, a free-form entry, or the answer a citizen's
question would get from the candidate knowledge base (the same reading and rendering as the
chat: bot.conversation)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.conversation.library import Library
from bot.conversation.render import render_entry, render_parts, render_situation
from bot.conversation.understanding import Understander
from bot.core.i18n import Translator
from bot.qa.answers import render_answer
from bot.qa.knowledge import OFFICE_ID, KnowledgeBase
from bot.qa.matching import Match, Matcher

LOCALES = ("id", "en")


def answer_to(kb: KnowledgeBase, library: Library, question: str, tr: Translator,
              tz: ZoneInfo) -> tuple[str, Markup | None]:
    """What the chat would answer: (kind of answer, its HTML); None as the HTML when the bot
    would still not understand the question."""
    understander = Understander(kb, Matcher(kb), library)
    reading = understander.understand(question, complaints=False)
    if reading.kind == "answer":
        html = render_parts(kb, understander, reading.parts, tr, tz).html
    elif reading.kind == "office":
        html = render_answer(kb, Match(OFFICE_ID, reading.topic, 90.0), tr, tz).html
    elif reading.kind == "situation":
        html = render_situation(kb, library.situations[reading.target], tr).html
    elif reading.kind == "entry":
        html = render_entry(library, reading.target, tr).html
    else:
        return reading.kind, None
    # The renderers escaped every text of the knowledge base for Telegram's HTML.
    return reading.kind, Markup(html)


def item_previews(kb: KnowledgeBase, library: Library, folder: str,
                  item_id: str) -> list[tuple[str, str, Markup]]:
    """(locale, "answer", HTML) of a situation or an entry, in both languages."""
    out = []
    for locale in LOCALES:
        tr = Translator(locale)
        if folder == "entries" and item_id in library.entries:
            out.append((locale, "answer", Markup(render_entry(library, item_id, tr).html)))
        elif folder == "situations" and item_id in library.situations:
            out.append((locale, "answer", Markup(
                render_situation(kb, library.situations[item_id], tr).html)))
    return out
