from bot.nlu.featurizers.sentence_count_vectors import SentenceCountVectorsFeaturizer

__all__ = ["SentenceCountVectorsFeaturizer"]
