"""Applications handed in at the counter: tracking numbers, statuses, registering and moving
them along (service), the notices to followers, citizens' lookups, bulk CSV updates, the HTTP
API of the office's own systems, and the feature's personal data."""
