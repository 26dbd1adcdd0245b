"""Extensions of the Rasa server process, loaded through endpoints.yml (``tracker_store: type:
bot.runtime.store.BoundedSQLTrackerStore``):

- ``store``: a SQL tracker store with bounded sessions, which keeps each session after saving it and
  reads only newer rows on the next turn;
- ``action_payload``: the action server's request built from event dicts made once per event, not
  for every call (installed on import);
- ``action_results``: action server responses validated by one JSON-schema validator built once,
  each event against its own branch of the schema (installed on import);
- ``event_types``: event classes looked up by name in a table (installed on import);
- ``local_actions``: the sentiment slots filled in the Rasa process, not by an action server call
  every turn (installed on import);
- ``applied_events``: a tracker's applied events resumed from the last call's result instead of
  walking the whole session again (installed on import);
- ``states_cache``: a tracker's dialogue states computed once per prediction for all policies
  (installed on import);
- ``http_pool``: keep-alive connections to the action server and other endpoints (installed on
  import);
- ``tracker_copy``: a tracker copied without replaying every event (installed on import);
- ``graph_runner``: the model's graph run node by node in a precomputed order, not through dask's
  scheduler (installed on import);
- ``rule_index``: RulePolicy checks only the rules that can match the newest turn, and no turn older
  than the longest of them (installed on import);
- ``debug_logs``: the policies' debug-only deep copies and state texts built only when debug logging
  is on (installed on import);
- ``early_reply``: the NLU parse before the conversation's lock, and the REST channel's reply sent
  once the prediction loop ends, before the save (installed on import).

Each module says what it replaces in Rasa 3.6 and what that cost in ``make bench``.
"""
from bot.runtime import (
    action_payload,
    applied_events,
    action_results,
    debug_logs,
    early_reply,
    event_types,
    graph_runner,
    http_pool,
    local_actions,
    rule_index,
    states_cache,
    tracker_copy,
)

action_payload.install()
applied_events.install()
action_results.install()
debug_logs.install()
early_reply.install()
event_types.install()
graph_runner.install()
http_pool.install()
local_actions.install()
rule_index.install()
states_cache.install()
tracker_copy.install()
