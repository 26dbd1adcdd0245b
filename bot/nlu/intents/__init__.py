from bot.nlu.intents.classifier import BillingIntentClassifier

__all__ = ["BillingIntentClassifier"]
