from bot.nlu.featurizers.sentence_count_vectors import SentenceCountVectorsFeaturizer
from bot.nlu.featurizers.sentence_encoder import SentenceEncoderFeaturizer, dense_sentence_features

__all__ = ["SentenceCountVectorsFeaturizer", "SentenceEncoderFeaturizer", "dense_sentence_features"]
