"""Rasa 3.6 NLU graph component adding ``sentiment`` to every parsed message.

Pipeline entry (``config.yml``)::

    - name: bot.nlu.sentiment.SentimentAnalyzer

It only reads the raw ``text`` of a message, so it needs no tokenizer or
featurizer and can sit anywhere in the pipeline (conventionally after the intent
classifier). It is registered as ``INTENT_CLASSIFIER`` so that the default
recipe

* trains it once per ``rasa train`` (node ``train_SentimentAnalyzer<N>``), from
  the shipped corpus in ``data/sentiment/`` (not from the NLU examples; the NLU
  data is only its graph input), cached by Rasa's fingerprinting -- the corpus
  contents and this package's source are part of the fingerprint, see
  :meth:`SentimentAnalyzer.fingerprint_addon`;
* runs ``process`` on each message at inference, but never re-processes the NLU
  training data (a featurizer would be run over all NLU examples and the
  end-to-end core featurisation).

The result is set with ``add_to_output=True``: Rasa's
``MessageProcessor._parse_message_with_graph`` builds ``parse_data`` from
``Message.as_dict(only_output_properties=True)``, so only output properties
reach ``/model/parse``, ``UserUttered.parse_data`` and therefore
``tracker.latest_message["sentiment"]`` in the action server.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.featurizers.sentence_encoder import dense_sentence_features
from bot.nlu.sentiment.types import SENTIMENT_KEY, SentimentResult

logger = logging.getLogger(__name__)

_NEUTRAL: SentimentResult = {"label": "neutral", "score": 0.0, "tone": "calm"}
# modules whose code changes what training produces (part of the cache key)
_MODEL_SOURCES = ("component.py", "corpus.py", "model.py", "text.py", "training.py", "types.py")
_ENCODER_SOURCES = ("graph.py", "runtime.py")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class SentimentAnalyzer(GraphComponent):
    """Adds ``{"label", "score", "tone"}`` under ``message["sentiment"]``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # folder with the shipped corpus; None = <repo>/data/sentiment
            "corpus_dir": None,
            # hyper-parameters, see bot.nlu.sentiment.training.TrainingParams
            "C": None,
            "billing_weight": 12.0,
            "vader_weight": 1.0,
            "use_vader": True,
            "tone_implies_negative": True,
            # threads used to fit the heads (each head is single-threaded)
            "n_jobs": 2,
            # optional fixed thresholds overriding the calibrated ones
            "thresholds": None,
            # train on the first N GoEmotions rows only (smoke tests; None = all)
            "max_goemotions_examples": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "numpy", "scipy"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the corpus files or the model code change."""
        from bot.nlu.sentiment.corpus import corpus_fingerprint

        package = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for name in _MODEL_SOURCES:
            digest.update(name.encode())
            digest.update((package / name).read_bytes())
        for name in _ENCODER_SOURCES:  # the graph that makes the sentence vectors
            digest.update(name.encode())
            digest.update((package.parent / "encoder" / name).read_bytes())
        corpus_dir = config.get("corpus_dir")
        digest.update(corpus_fingerprint(Path(corpus_dir) if corpus_dir else None).encode())
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional["SentimentModel"] = None,  # noqa: F821
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._warned_no_vector = False

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentimentAnalyzer":
        return cls(config, model_storage, resource)

    # ---------------------------------------------------------------- training
    def _training_params(self):
        from bot.nlu.sentiment.training import TrainingParams

        overrides = {
            key: value
            for key, value in self._config.items()
            if key not in ("corpus_dir", "thresholds", "max_goemotions_examples")
            and value is not None
        }
        return TrainingParams.from_config(overrides)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the shipped corpus (the NLU ``training_data`` is not used)."""
        from bot.nlu.sentiment.training import train_model

        corpus_dir = self._config.get("corpus_dir")
        model = train_model(
            Path(corpus_dir) if corpus_dir else None,
            self._training_params(),
            max_train_examples=self._config.get("max_goemotions_examples"),
        )
        self._apply_threshold_overrides(model)
        self._model = model
        self.persist()
        return self._resource

    def _apply_threshold_overrides(self, model) -> None:
        overrides = self._config.get("thresholds") or {}
        for head, value in overrides.items():
            if not hasattr(model.thresholds, head):
                raise ValueError(f"Unknown sentiment threshold '{head}'")
            setattr(model.thresholds, head, float(value))

    def persist(self) -> None:
        if self._model is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(Path(directory))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SentimentAnalyzer":
        from bot.nlu.sentiment.model import SentimentModel

        try:
            with model_storage.read_from(resource) as directory:
                model = SentimentModel.load(Path(directory))
        except (ValueError, FileNotFoundError, OSError) as error:
            logger.warning(
                "Could not load the sentiment model (%s); every message will be "
                "marked neutral/calm. Retrain with `rasa train`.",
                error,
            )
            model = None
        component = cls(config, model_storage, resource, model)
        if model is not None:
            component._apply_threshold_overrides(model)
        return component

    # --------------------------------------------------------------- inference
    def analyse(self, text: Optional[str], vector: Optional[np.ndarray] = None) -> SentimentResult:
        # no model, empty text, or a button payload such as "/inform{...}"
        if self._model is None or not text or text.startswith(INTENT_MESSAGE_PREFIX):
            return dict(_NEUTRAL)  # type: ignore[return-value]
        if vector is None and self._model.needs_vector and self._model.encoder is None \
                and not self._warned_no_vector:
            self._warned_no_vector = True
            logger.warning("The sentiment model reads the sentence encoder's vector, but messages "
                           "arrive without one: put bot.nlu.featurizers.SentenceEncoderFeaturizer "
                           "before bot.nlu.sentiment.SentimentAnalyzer in config.yml.")
        return self._model.predict(text, vector)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            result = self.analyse(message.get(TEXT), self._vector(message))
            message.set(SENTIMENT_KEY, result, add_to_output=True)
        return messages

    def _vector(self, message: Message) -> Optional[np.ndarray]:
        """The sentence encoder's vector of the text (its dense sentence feature), if any."""
        weights = self._model.vector_weights if self._model is not None else None
        if weights is None:
            return None
        vectors = [v for v in dense_sentence_features(message).values() if v.shape[0] == weights.shape[0]]
        return vectors[0] if vectors else None

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Annotate training examples too (only used if run as a featurizer)."""
        self.process(training_data.training_examples)
        return training_data
