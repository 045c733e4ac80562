"""A Telegram Bot API emulator over HTTP, for end-to-end tests and the offline chat."""

from bot.emulator.core import BotApiError, Emulator, Event, FloodLimits, Upload
from bot.emulator.server import EmulatorServer, create_app
from bot.telegram_rules.html import EntityParseError, parse_html

__all__ = [
    "BotApiError",
    "Emulator",
    "EmulatorServer",
    "EntityParseError",
    "Event",
    "FloodLimits",
    "Upload",
    "create_app",
    "parse_html",
]
