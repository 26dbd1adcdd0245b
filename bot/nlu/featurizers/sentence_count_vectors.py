"""Rasa's ``CountVectorsFeaturizer`` without the token-level (sequence) features nothing here reads.

For every message Rasa's featurizer runs its vectorizer twice: once on each token (a sequence
matrix, for DIET and other token-level components) and once on the whole text (the sentence row).
This pipeline's readers - the intent classifier (``bot/nlu/intents``) - use the sentence row only;
entities come from spaCy rules and sentiment has its own vectorizers. This component is the same
featurizer (same vocabulary, same options, same persistence) whose messages get the sentence
features only: half the vectorizer work per message and per training example. A pipeline that adds
a token-level component (DIET, CRF) needs Rasa's ``CountVectorsFeaturizer`` back.

A sentence row is counted here directly (the vectorizer's own analyzer, then its vocabulary) rather
than through ``CountVectorizer.transform``, whose input checks and CSR round trip (build, sort,
convert to COO) cost more than the counting for one message: ~60 % of the featurizer's time per
message, the same matrix. ``tests/nlu/test_sentence_featurizer.py`` checks that the sentence features
equal Rasa's (values, shape, dtypes).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import numpy as np
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
            # what Rasa's featurizer does for the row: vectorizer.transform([" ".join(tokens)]), as COO
            sentence_features.append(self._sentence_row(attribute, vectorizer, " ".join(tokens)))
        return [None] * len(sentence_features), sentence_features

    def _sentence_row(self, attribute: Text, vectorizer: Any, text: Text) -> scipy.sparse.coo_matrix:
        """``vectorizer.transform([text]).tocoo()`` with sorted indices, counted directly."""
        analyzers: Dict[Text, Tuple[Any, Callable[[Text], List[Text]]]] = self.__dict__.setdefault("_analyzers", {})
        known = analyzers.get(attribute)
        if known is None or known[0] is not vectorizer:  # a vectorizer trained or loaded since
            known = analyzers[attribute] = (vectorizer, vectorizer.build_analyzer())
        vocabulary = vectorizer.vocabulary_
        counts: Dict[int, int] = {}
        for feature in known[1](text):
            column = vocabulary.get(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = sorted(counts)
        if vectorizer.binary:
            data = np.ones(len(columns), dtype=vectorizer.dtype)
        else:
            data = np.array([counts[column] for column in columns], dtype=vectorizer.dtype)
        index = np.int32 if len(vocabulary) <= np.iinfo(np.int32).max else np.int64
        return scipy.sparse.coo_matrix(
            (data, (np.zeros(len(columns), dtype=index), np.array(columns, dtype=index))),
            shape=(1, len(vocabulary)))
