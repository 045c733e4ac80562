"""The core every feature builds on: settings, errors, the database, shared tables, the runtime
and its events, translations, time windows, working days, text helpers, logging, metrics and
the report threads (offload).

It imports no feature package, so any feature may import it without a cycle
(tests/test_architecture.py checks this).
"""
