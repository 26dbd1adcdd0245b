"""The MiniLM (BERT) forward pass as an ONNX graph, written from the safetensors weights.

No PyTorch here, so the graph is spelt out with ``onnx.helper``: embeddings (word + position +
token type 0) and LayerNorm, then six layers, each one fused ``Attention`` node (12 heads, packed
Q/K/V), the output projection, a residual LayerNorm, a GELU feed-forward block and another
residual LayerNorm - onnxruntime's fused CPU operators (``com.microsoft``), eight nodes a layer
instead of about thirty. Then mean pooling over the attention mask and L2 normalisation, as
sentence-transformers computes for all-MiniLM-L6-v2 (the float graph matches a plain numpy
forward pass to a cosine of 0.99999: tests/nlu/test_sentence_encoder.py).

``quantized_model`` then quantises the weight matrices, the attention weights and the embedding
table to int8 per output channel (``onnxruntime.quantization.quantize_dynamic``): 91 -> 23 MB
and about twice as fast per message on one core, with a cosine of about 0.99 to the float32
vectors.
"""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np

INPUTS = ("input_ids", "attention_mask")
OUTPUT = "embedding"


def load_weights(folder: Path) -> Dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def _config(folder: Path) -> Dict:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise ValueError(f"{folder}: expected a BERT encoder with GELU, got {config.get('model_type')}")
    return config


def build_graph(folder: Path):
    """The float32 ``onnx.ModelProto`` of the encoder in ``folder``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = _config(folder)
    w = load_weights(folder)
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    inits: List = []
    nodes: List = []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: List[str], out: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node("LayerNormalization",
                    [x, const(prefix + "weight", w[prefix + "weight"]), const(prefix + "bias", w[prefix + "bias"])],
                    out, axis=-1, epsilon=eps)

    ids, mask = INPUTS
    # embeddings: word + position[0:T] + token type 0, LayerNorm
    x = node("Gather", [const("word_embeddings", w["embeddings.word_embeddings.weight"]), ids], "emb.word")
    length = node("Gather", [node("Shape", [ids], "ids.shape"), const("axis1", np.array(1, np.int64))], "T")
    positions = node("Range", [const("i0", np.array(0, np.int64)), length, const("i1", np.array(1, np.int64))], "pos")
    x = node("Add", [x, node("Gather", [const("position_embeddings", w["embeddings.position_embeddings.weight"]),
                                        positions], "emb.pos")], "emb.sum1")
    x = node("Add", [x, const("token_type0", w["embeddings.token_type_embeddings.weight"][0])], "emb.sum2")
    x = layer_norm(x, "embeddings.LayerNorm.", "emb")
    maskf = node("Cast", [mask], "mask.f", to=TensorProto.FLOAT)
    # onnxruntime's fused CPU kernels (domain com.microsoft): one Attention node (packed Q, K, V),
    # SkipLayerNormalization (residual + bias + LayerNorm) and BiasGelu (exact GELU) per layer -
    # eight nodes a layer instead of thirty, which is most of the cost for a short message
    mask32 = node("Cast", [mask], "mask.i32", to=TensorProto.INT32)
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([w[f"{p}attention.self.{part}.weight"].T for part in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[f"{p}attention.self.{part}.bias"] for part in ("query", "key", "value")])
        context = node("Attention", [x, const(f"{p}qkv.weight", np.ascontiguousarray(qkv_w)), const(f"{p}qkv.bias", qkv_b),
                                     mask32], f"l{i}.ctx", domain="com.microsoft", num_heads=heads)
        out = node("MatMul", [context, const(f"{p}ao.weight.T", np.ascontiguousarray(w[f"{p}attention.output.dense.weight"].T))],
                   f"l{i}.ao")
        x = node("SkipLayerNormalization", [out, x, const(f"{p}ln1.g", w[f"{p}attention.output.LayerNorm.weight"]),
                                            const(f"{p}ln1.b", w[f"{p}attention.output.LayerNorm.bias"]),
                                            const(f"{p}ao.bias", w[f"{p}attention.output.dense.bias"])],
                 f"l{i}.x1", domain="com.microsoft", epsilon=eps)
        h = node("MatMul", [x, const(f"{p}ff1.weight.T", np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T))], f"l{i}.ff1")
        h = node("BiasGelu", [h, const(f"{p}ff1.bias", w[f"{p}intermediate.dense.bias"])], f"l{i}.gelu", domain="com.microsoft")
        out = node("MatMul", [h, const(f"{p}ff2.weight.T", np.ascontiguousarray(w[f"{p}output.dense.weight"].T))], f"l{i}.ff2")
        x = node("SkipLayerNormalization", [out, x, const(f"{p}ln2.g", w[f"{p}output.LayerNorm.weight"]),
                                            const(f"{p}ln2.b", w[f"{p}output.LayerNorm.bias"]),
                                            const(f"{p}ff2.bias", w[f"{p}output.dense.bias"])],
                 f"l{i}.x2", domain="com.microsoft", epsilon=eps)
    # mean over the real tokens, then L2 normalisation
    mask3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], np.int64))], "mask3")
    summed = node("ReduceSum", [node("Mul", [x, mask3], "masked"), const("axis1s", np.array([1], np.int64))], "sum", keepdims=0)
    count = node("ReduceSum", [mask3, const("axis1c", np.array([1], np.int64))], "count", keepdims=0)
    mean = node("Div", [summed, count], "mean")
    norm = node("ReduceL2", [mean, const("axis_last", np.array([-1], np.int64))], "norm", keepdims=1)
    node("Div", [mean, norm], OUTPUT)
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model  # (onnx.checker does not know the com.microsoft operators; onnxruntime checks it on load)


def float_model(folder: Path) -> bytes:
    return build_graph(folder).SerializeToString()


def quantized_model(folder: Path) -> bytes:
    """The int8 graph (weights and embedding table per channel, activations quantised at run time)."""
    return quantize(build_graph(folder))


def quantize(model) -> bytes:
    """``model`` (an ``onnx.ModelProto`` of :func:`build_graph`, extra outputs allowed) quantised to int8."""
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(source))
        root.setLevel(max(level, logging.ERROR))  # the quantiser logs a line per tensor, and advice
        try:
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul", "Attention", "Gather"],
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            root.setLevel(level)
        return target.read_bytes()
