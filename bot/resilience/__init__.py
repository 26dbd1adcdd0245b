"""Keeping the assistant answering when a backing service (Redis) is briefly unreachable."""
