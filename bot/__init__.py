"""Service-standard assistant for Indonesian public-service offices."""
