"""Intent classifier: word and character n-gram blocks, sublinear tf-idf, into a logistic regression.

Rasa's ``LogisticRegressionClassifier`` fits the raw counts of every featurizer glued together with
``class_weight="balanced"`` and a fixed ``C``. Here each featurizer's sentence features are kept as
their own block (word n-grams, character n-grams): counts are damped (``log(1 + tf)``), weighted by
inverse document frequency learnt from the training data, and each block is L2-normalised on its
own, so the ~150 character n-grams of a message do not drown its ~10 words. The concatenation is
normalised again. Dense sentence features (the sentence encoder's unit-length vector,
``bot.nlu.featurizers.SentenceEncoderFeaturizer``) are appended to that row times ``dense_weight``:
the n-grams know the words of the training data, the vector knows what unseen words mean. A
multinomial logistic regression follows; ``C``, the class weighting and ``dense_weight`` are chosen
by cross-validation on the project data (docs/nlu.md).

At run time a message is one sparse row: ``process`` computes that row and the softmax of the
multinomial model with numpy on the row's few non-zero columns, instead of building scipy
matrices and calling scikit-learn (~10x less time per message, the same probabilities: see
tests/nlu/test_intents.py). Batches, training and anything unusual take the general path.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from bot.nlu.featurizers.sentence_encoder import dense_sentence_features

logger = logging.getLogger(__name__)

IDF_FILE = "idf.npz"


def sentence_blocks(messages: List[Message]) -> List[csr_matrix]:
    """One matrix per featurizer (sorted by origin) holding the messages' sparse sentence features."""
    per_origin: Dict[Text, List[csr_matrix]] = {}
    widths: Dict[Text, int] = {}
    for index, message in enumerate(messages):
        for feature in message.features:
            if (feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE
                    or not feature.is_sparse()):
                continue
            origin = str(feature.origin)
            rows = per_origin.setdefault(origin, [])
            widths[origin] = feature.features.shape[-1]
            # pad rows of messages that had no feature from this origin
            while len(rows) < index:
                rows.append(csr_matrix((1, widths[origin])))
            rows.append(csr_matrix(feature.features))
    blocks = []
    for origin in sorted(per_origin):
        rows = per_origin[origin]
        while len(rows) < len(messages):
            rows.append(csr_matrix((1, widths[origin])))
        blocks.append(vstack(rows).tocsr())
    return blocks


def dense_block(messages: List[Message]) -> Optional[np.ndarray]:
    """The messages' dense sentence features (e.g. the sentence encoder's vectors) side by side, one
    row per message, featurizers in order of origin; zeros where a message has none. ``None``
    when no message has any."""
    per_origin: Dict[Text, Dict[int, np.ndarray]] = {}
    for index, message in enumerate(messages):
        for origin, vector in dense_sentence_features(message).items():
            per_origin.setdefault(origin, {})[index] = vector
    if not per_origin:
        return None
    columns = []
    for origin in sorted(per_origin):
        rows = per_origin[origin]
        width = next(iter(rows.values())).shape[0]
        column = np.zeros((len(messages), width))
        for index, vector in rows.items():
            column[index] = vector
        columns.append(column)
    return np.hstack(columns)


def fit_idf(block: csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency, as in scikit-learn's TfidfTransformer."""
    n_docs = block.shape[0]
    doc_freq = np.bincount(block.indices, minlength=block.shape[1]) if block.nnz else \
        np.zeros(block.shape[1])
    return np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0


def _columns(matrix: Any) -> Tuple[np.ndarray, np.ndarray]:
    """A one-row sparse matrix's (columns, values) with duplicates summed and columns sorted, as its CSR
    form has them: read straight off a COO row that already is so (``bot/nlu/featurizers`` makes
    them), else through ``csr_matrix`` (~40 us a call)."""
    if matrix.format == "coo":
        col = matrix.col
        if col.size < 2 or bool(np.all(col[1:] > col[:-1])):
            return col, matrix.data
    row = csr_matrix(matrix)  # sums duplicate entries, as _create_X does
    return row.indices, row.data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BillingIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "max_iter": 1000,
            "C": 20.0,
            # "balanced" (config.yml; better cross-validated macro-F1 on data/nlu) or null
            "class_weight": None,
            # log(1 + tf) * idf per featurizer block, each block L2-normalised
            "tfidf": True,
            # dense sentence features (unit-length encoder vectors) are appended times this weight
            # to the normalised n-gram row; 1.0 chosen by 5-fold CV on data/nlu (docs/nlu.md)
            "dense_weight": 1.0,
        }

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: Any, resource: Any) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            C=float(self.config["C"]),
            class_weight=self.config["class_weight"],
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )
        self.idf: Optional[List[np.ndarray]] = None

    def _create_X(self, messages: List[Message], fit: bool = False) -> csr_matrix:
        sparse = self._sparse_X(messages, fit)
        dense = dense_block(messages)
        if dense is None:
            expected = 0 if fit or not hasattr(self.clf, "coef_") else self.clf.coef_.shape[1] - sparse.shape[1]
            if expected <= 0:
                return sparse
            dense = np.zeros((len(messages), expected))  # e.g. an empty text: no vector, zeros
        return hstack([sparse, csr_matrix(dense * float(self.config["dense_weight"]))]).tocsr()

    def _sparse_X(self, messages: List[Message], fit: bool) -> csr_matrix:
        blocks = sentence_blocks(messages)
        if not blocks:
            return csr_matrix((len(messages), 0))
        if self.config["tfidf"]:
            if fit:  # training: learn the weights from the training data
                self.idf = [fit_idf(block) for block in blocks]
            if self.idf is None or len(self.idf) != len(blocks):
                raise ValueError(f"{self.name}: no idf weights for {len(blocks)} feature blocks")
            weighted = []
            for block, idf in zip(blocks, self.idf):
                block = block.copy()
                block.data = np.log1p(block.data)
                weighted.append(normalize(block.multiply(idf[np.newaxis, :]).tocsr()))
            blocks = weighted
        return normalize(hstack(blocks).tocsr())

    def _row(self, message: Message) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The message's row of ``_create_X`` as (columns, values), or ``None`` to take the general path."""
        if not self.config["tfidf"] or self.idf is None:
            return None
        per_origin: Dict[Text, Any] = {}
        dense = dense_sentence_features(message)
        for feature in message.features:
            if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE and feature.is_sparse():
                per_origin[str(feature.origin)] = feature.features
        if len(per_origin) != len(self.idf):
            return None
        columns, values, offset = [], [], 0
        for origin, idf in zip(sorted(per_origin), self.idf):
            indices, counts = _columns(per_origin[origin])
            if per_origin[origin].shape != (1, idf.shape[0]):
                return None
            data = np.log1p(counts) * idf[indices]
            norm = np.sqrt(np.dot(data, data))
            columns.append(indices + offset)
            values.append(data / norm if norm > 0 else data)
            offset += idf.shape[0]
        cols = np.concatenate(columns)
        vals = np.concatenate(values)
        norm = np.sqrt(np.dot(vals, vals))
        vals = vals / norm if norm > 0 else vals
        if dense:  # appended after the n-gram columns, as in _create_X
            vector = np.concatenate([dense[origin] for origin in sorted(dense)])
            if offset + vector.shape[0] != self.clf.coef_.shape[1]:
                return None
            cols = np.concatenate([cols, np.arange(offset, offset + vector.shape[0])])
            vals = np.concatenate([vals, vector * float(self.config["dense_weight"])])
        elif offset > self.clf.coef_.shape[1]:
            return None
        return cols, vals  # without a vector its columns are zeros, as in _create_X

    def _multinomial(self) -> bool:
        clf = self.clf
        return (hasattr(clf, "coef_") and clf.classes_.size > 2 and clf.solver != "liblinear"
                and clf.multi_class in ("auto", "multinomial"))

    def process(self, messages: List[Message]) -> List[Message]:
        """Most likely intent and ranking for each message (see the module docstring)."""
        if len(messages) != 1 or not self._multinomial():
            return super().process(messages)
        message = messages[0]
        row = self._row(message)
        if row is None:
            return super().process(messages)
        cols, vals = row
        scores = self.clf.coef_[:, cols] @ vals + self.clf.intercept_
        scores = np.exp(scores - scores.max())
        probas = scores / scores.sum()
        ranking = sorted(({"name": k, "confidence": v} for k, v in zip(self.clf.classes_, probas)),
                         key=lambda e: -e["confidence"])
        intent = ranking[0]
        if self.config[RANKING_LENGTH] > 0:
            ranking = ranking[: self.config[RANKING_LENGTH]]
        message.set("intent", intent, add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def train(self, training_data: TrainingData) -> Resource:
        """Train the intent classifier on a data set."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug(f"Cannot train '{self.name}': no intent examples.")
            return self._resource
        X = self._create_X(examples, fit=True)
        self.clf.fit(X, [e.get(INTENT) for e in examples])
        self.persist()
        return self._resource

    def persist(self) -> None:
        super().persist()
        if self.idf is not None:
            with self._model_storage.write_to(self._resource) as model_dir:
                np.savez(model_dir / IDF_FILE, *self.idf)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "BillingIntentClassifier":
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / IDF_FILE
                if path.exists():
                    with np.load(path, allow_pickle=False) as stored:
                        component.idf = [stored[f"arr_{i}"] for i in range(len(stored.files))]
        except ValueError:
            logger.debug(f"No stored idf weights for '{resource.name}'.")
        return component
