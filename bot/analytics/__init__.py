"""Outcome analytics from Rasa's event stream (RabbitMQ): a consumer that stores every event, and a
report (conversations, resolutions by kind, escalations by reason, time to resolution, sentiment at
start vs end, CSAT). ``make report`` prints it and writes plots."""
