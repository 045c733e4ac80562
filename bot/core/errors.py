"""Errors of the core that features and the command line catch by type."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting has a bad value; the message names the variable."""
