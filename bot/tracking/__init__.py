"""Conversation storage: a SQL tracker store with bounded sessions (bot.tracking.store)."""
