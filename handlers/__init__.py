"""The Telegram layer: one module per feature, each thin over the domain functions in bot/."""
