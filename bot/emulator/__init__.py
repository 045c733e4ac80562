"""A Telegram Bot API emulator over HTTP, for end-to-end tests and the offline chat."""

from bot.emulator.core import BotApiError, Emulator, Event, FloodLimits, Upload
from bot.emulator.server import EmulatorServer, create_app

__all__ = [
    "BotApiError",
    "Emulator",
    "EmulatorServer",
    "Event",
    "FloodLimits",
    "Upload",
    "create_app",
]
