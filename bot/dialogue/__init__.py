"""Conversation logic that is independent of Rasa: identifiers in messages, reply wording."""
