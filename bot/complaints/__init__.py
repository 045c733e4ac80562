"""Complaints (pengaduan): filing, handling by officers, time limits and escalation, access
rules, lists, rendering, reports, and the feature's personal data.

No Telegram here. Every change is one call inside the caller's transaction, and every message
it causes (to the complainant, the officers' group, supervisors) is queued in the outbox in that
same transaction, rendered in the recipient's language. Buttons are the Bot API's JSON shape;
their callback data is read back by handlers/complaints/ and checked against the presser.
"""
