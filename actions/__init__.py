"""rasa-sdk actions: thin, they call the billing core (bot/billing) and the dialogue cases (bot/dialogue)."""
from bot import gc_tuning

# In the action server (rasa-sdk's Sanic app "rasa_sdk", which imports this package while it starts):
# settle its garbage collector once it serves (bot/gc_tuning.py). Elsewhere (tests) nothing happens.
gc_tuning.settle_when_serving("rasa_sdk")
