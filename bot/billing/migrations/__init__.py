"""Alembic environment and versions for the billing schema (run via ``bot.billing.migrate``)."""
