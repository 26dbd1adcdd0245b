from bot.nlu.featurizers.sentence_count_vectors import SentenceCountVectorsFeaturizer
from bot.nlu.featurizers.sentence_encoder import SentenceEncoderFeaturizer

__all__ = ["SentenceCountVectorsFeaturizer", "SentenceEncoderFeaturizer"]
