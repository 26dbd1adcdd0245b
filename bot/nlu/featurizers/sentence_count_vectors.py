"""Rasa's ``CountVectorsFeaturizer`` without the token-level (sequence) features nothing here reads.

For every message Rasa's featurizer runs its vectorizer twice: once on each token (a sequence
matrix, for DIET and other token-level components) and once on the whole text (the sentence row).
This pipeline's readers - the intent classifier (``bot/nlu/intents``) - use the sentence row only;
entities come from spaCy rules and sentiment has its own vectorizers. This component is the same
featurizer (same vocabulary, same options, same persistence) whose messages get the sentence
features only: half the vectorizer work per message and per training example. A pipeline that adds
a token-level component (DIET, CRF) needs Rasa's ``CountVectorsFeaturizer`` back.
``tests/nlu/test_sentence_featurizer.py`` checks that the sentence features equal Rasa's.
"""
from __future__ import annotations

from typing import List, Optional, Text, Tuple

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` that adds sentence features only."""

    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer:
            return [None], [None]
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens or attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentence_features.append(None)
                continue
            sentence = vectorizer.transform([" ".join(tokens)])  # what Rasa's featurizer does for the row
            sentence.sort_indices()
            sentence_features.append(sentence.tocoo())
        return [None] * len(sentence_features), sentence_features
