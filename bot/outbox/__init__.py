"""The durable outbox: every message the bot sends on its own initiative is queued here in the
transaction of the change that causes it (store), then delivered by the one paced sender."""
