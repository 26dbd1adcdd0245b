"""The agent side: accounts and presence, the priority queue, and the HTTP API agents work from.

- :mod:`.accounts`  agent logins (Argon2 hashes), presence (online/offline, last seen)
- :mod:`.queue`     priority of waiting handoffs (reason, sentiment, amount, waiting time)
- :mod:`.sessions`  signed session cookies (HttpOnly, SameSite=Strict) and CSRF tokens
- :mod:`.rasa_api`  the Rasa HTTP API calls: transcript, reply on the customer's channel, hand back
- :mod:`.server`    the Sanic app (``python -m bot.agents.server``), started by ``make run``
"""
