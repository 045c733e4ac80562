"""What the bot says to a message it cannot read (a voice note, a sticker, a video, a file,
...) outside a flow that takes it: a short, friendly line saying what it does take."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message

from bot.core.i18n import N_

# The first line, by what was sent; checked in this order.
_WHAT_WAS_SENT: tuple[tuple[str, str], ...] = (
    ("voice", N_("Sorry, I cannot listen to voice messages.")),
    ("audio", N_("Sorry, I cannot listen to audio.")),
    ("video_note", N_("Sorry, I cannot watch videos.")),
    ("video", N_("Sorry, I cannot watch videos.")),
    ("animation", N_("Sorry, I cannot watch videos.")),
    ("sticker", N_("Sorry, I cannot read stickers.")),
    ("document", N_("Sorry, I cannot open files here.")),
    ("photo", N_("I take photos only as evidence for a complaint.")),
    ("location", N_("I use a location only for a complaint.")),
)


def what_i_take(message: Message | None, _: Callable[[str], str], locale: str) -> str:
    """The answer to a message no feature read."""
    first = N_("Sorry, I cannot read this kind of message.")
    for attribute, text in _WHAT_WAS_SENT:
        if message is not None and getattr(message, attribute, None):
            first = text
            break
    command = "/pengaduan" if locale == "id" else "/complaint"
    return "\n\n".join(
        [
            _(first),
            _(
                "What I can take:\n"
                "• your question, typed as text\n"
                "• photos, as evidence when you file a complaint ({command})\n"
                "• your location, when the complaint form asks for it"
            ).format(command=command),
        ]
    )
