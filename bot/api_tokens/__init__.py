"""Named tokens of the back-office HTTP API: created by an admin (command line or chat), shown
once, stored as SHA-256 hashes, listed by name and last use, revoked at once on every
instance; the token's name is the actor of every change made with it (audit_log.api_token)."""
