"""Billing core of the dispute assistant (no Rasa imports).

Modules:

* :mod:`~bot.billing.db` - engines per URL, ``read_scope()`` / ``unit_of_work()`` / ``session_scope()``
* :mod:`~bot.billing.models` - SQLAlchemy models; :mod:`~bot.billing.migrate` - Alembic ``upgrade(url)``
* :mod:`~bot.billing.seed` - demo accounts + generated customers (``python -m bot.billing.seed``)
* :mod:`~bot.billing.lookup` - invoices, customers, balances, corrections, recognition, ``verify``
* :mod:`~bot.billing.findings` - ledger errors on an invoice
* :mod:`~bot.billing.policy` - authority limits, payment plans, goodwill (``policy.yml``)
* :mod:`~bot.billing.operations` - refunds, credit notes, fee reversals, payment plans, disputes
* :mod:`~bot.billing.interactions`, :mod:`~bot.billing.handoffs` - interaction log, agent handoffs

Everything public returns plain dataclasses (:mod:`~bot.billing.dto`); money is ``Decimal``.
"""
