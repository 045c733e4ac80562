"""Personal data (UU 27/2022): the registry of every kind the features hold, with its export,
erasure and retention (registry)."""
