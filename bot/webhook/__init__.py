"""Webhook mode on several instances sharing one database: every update handled once, in
order per chat, and nothing sent twice when an instance dies mid-update.

Read in this order:
- server.py: the webhook endpoint; takes each update, hands it to the bot, answers Telegram.
- store.py: the handled-update record (the table processed_updates) and every statement on it.
- liveness.py: which instances are alive, so a dead one's updates are taken over at once.
- flood.py: updates per user per minute, counted in the same round trip as the take.
- chat_locks.py: one chat's updates one at a time, across instances.
- journal.py: what an update has already sent, so a taken-over update does not send it again.
- answer.py: the update's last message, given back in the answer to Telegram's request.
- transport.py: the Bot API transport (aiohttp) that keeps the journal and counts calls.
- rate_limiter.py: the Application's rate limiter, taking from the bot's send budget
  (bot/sendrate), shared by every instance.
- privacy.py: the personal data this machinery holds (flood counts, copies of answers).
"""
