"""Extensions of the Rasa server process, loaded through endpoints.yml (``tracker_store: type:
bot.runtime.store.BoundedSQLTrackerStore``):

- ``store``: a SQL tracker store with bounded sessions;
- ``action_results``: action server responses validated by one JSON-schema validator built once
  (installed on import, see that module for the measurement).
"""
from bot.runtime import action_results

action_results.install()
