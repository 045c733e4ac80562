"""Telegram's own rules, shared by production and the Bot API emulator: the HTML subset its
parser accepts, how it counts length (UTF-16 code units), its size limits, and the packing of
callback data. Plain Python: no python-telegram-bot, no database."""
