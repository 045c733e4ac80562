"""Service-standard assistant for Indonesian public-service offices.

The map (docs/architecture.md has the long version):
- core/: settings, errors, database, shared tables, runtime and events, i18n, time windows,
  working days, text, logging, metrics, offload (reports off the event loop). Imports no feature.
- telegram_rules/: Telegram's HTML subset, its limits, callback data; shared with the emulator.
- qa/, conversation/, applications/, complaints/, surveys/, queue/, feedback/, console/,
  outbox/, people/, privacy/, reload/: one package per feature, split by role (models,
  service, render, privacy, jobs).
- sendrate/: one send budget for the bot across instances (replies and outbox).
- webhook/: several instances on one database; read server, store, liveness, flood,
  chat_locks, journal, answer, transport.
- emulator/: the Bot API emulator for the tests and the offline chat; production never
  imports it.
- app.py wires the runtime and the Application; cli.py is the command line; offline.py the
  offline chat. The Telegram layer is handlers/, its features listed in handlers/features.py.

No Telegram imports here except app.py and webhook/ (tests/test_architecture.py checks this,
and that there is no import cycle and no module over 600 lines).
"""
