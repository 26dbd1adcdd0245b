"""Rasa input/output channels of the assistant (Twilio SMS: ``bot.channels.twilio_sms``)."""
