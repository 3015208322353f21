"""CLINC150 as a knowledge pack, and the router measured on it (Larson et al., EMNLP 2019).

Usage::

    python benchmarks/clinc150.py [--data PATH] [--out-pack DIR] [--seed N]
        [--encoder NAME [--embedding-cache DIR]]

The "out-of-scope threshold" setting of the paper, Full data set:

1. the ``train`` split becomes a pack (one unit per intent, no quotes); its out-of-scope
   examples are *not* trained on;
2. the engine fits it (with temperature and fuzzy weight from ``ai-office calibrate``'s
   held-out folds of ``train``);
3. the out-of-scope threshold (the policy's floor) is the one with the best accuracy on
   ``val`` + ``oos_val`` over all 151 classes, out-of-scope counted as a class and an
   in-scope query that is rejected counted as wrong;
4. the router is evaluated on ``test`` + ``oos_test`` when the file has them, else on
   ``val`` + ``oos_val`` (then the figures are validation figures, threshold included).

With ``--encoder NAME`` (:mod:`router.encoders`, needs the ``semantic`` extra) the same
run fuses the encoder's embeddings into the model; its weight and the SVM's C are chosen on
held-out folds of ``train`` (closed-set accuracy), never on ``val``, and the JSON has the same
keys plus those choices. ``--embedding-cache DIR`` keeps the embeddings of the data's texts
in DIR (keyed by the model's sha256) so that a second run does not embed them again; the
throughput is measured in a fresh process that embeds everything itself.

It prints one JSON object (see :func:`run`). The data is CC BY 3.0, Larson et al.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import roc_auc_score

from router import Router
from router.classifier import IntentClassifier
from router.encoders import Encoder, get_encoder
from router.linear import model_file
from router.pack import load_pack
from router.policy import Policy
from router.text import normalise
from router.training import (
    CalibrationResult,
    fit_calibration,
    fit_encoder_gate,
    out_of_fold_scores,
    write_calibration,
    write_model,
)

#: Throughput runs, each on a freshly loaded router; the median is reported.
REPEATS = 5
#: With an encoder each run embeds every text again (minutes on two cores): one run.
ENCODER_REPEATS = 1

#: The fusion settings tried on held-out folds of train with an encoder: the embedding
#: weight (each block has norm 1 per row) and the SVM's C.
EMBEDDING_WEIGHTS = (1.5, 2.5)
SVM_CS = (0.5, 1.0)
TUNE_FOLDS = 3

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "clinc150_train_val.json"
)
OOS = "oos"
#: Share of words (of at least four letters) that get one typo in the noise variant.
TYPO_RATE = 0.3

Item = tuple[str, str]


def read_clinc(path: str | Path) -> dict[str, list[Item]]:
    """Read a CLINC150 JSON file: ``{split: [[text, intent], ...]}``.

    Raises:
        ValueError: ``train`` or ``val`` is missing, or an item is not ``[text, intent]``.
    """
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    for split in ("train", "val"):
        if split not in raw:
            raise ValueError(f"{path}: no {split!r} split; expected the CLINC150 JSON format")
    data: dict[str, list[Item]] = {}
    for split, items in raw.items():
        pairs = []
        for i, item in enumerate(items):
            if not (
                isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
            ):
                raise ValueError(f"{path}: {split}[{i}] is not [text, intent]: {item!r}")
            pairs.append((item[0], item[1]))
        data[split] = pairs
    return data


def write_pack(train: Sequence[Item], out: str | Path, *, name: str = "CLINC150") -> Path:
    """Write ``train`` as a pack folder: one unit per intent, no quotes, no out-of-scope intent.

    The out-of-scope intent is named in ``corpus/pack.yaml`` but has no training file:
    that is the threshold setting, where only the floor rejects.
    """
    root = Path(out)
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    (root / "intents").mkdir(parents=True, exist_ok=True)
    by_intent: dict[str, list[str]] = {}
    for text, intent in train:
        if intent != OOS:
            by_intent.setdefault(intent, []).append(text)
    settings = {
        "name": name,
        "out_of_scope_unit": OOS,
        "messages": {
            "routed": "Intent: {unit}.",
            "out_of_scope": "This request is out of scope.",
            "clarify": "Two intents are about equally likely. Which one did you mean?",
        },
    }
    _dump(root / "corpus" / "pack.yaml", settings)
    units = [{"id": intent, "name": intent.replace("_", " ")} for intent in sorted(by_intent)]
    _dump(root / "corpus" / "units.yaml", {"units": units})
    for intent, texts in sorted(by_intent.items()):
        _dump(root / "intents" / f"{intent}.yaml", {"unit": intent, "examples": texts})
    stale = root / "intents" / "calibration.yaml"
    stale.unlink(missing_ok=True)
    return root


def _dump(path: Path, data: Any) -> None:
    header = (
        "# Generated by benchmarks/clinc150.py from CLINC150 (CC BY 3.0, Larson et al. 2019).\n"
    )
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(header + text, encoding="utf-8")


def paper_threshold(
    in_scores: np.ndarray, in_correct: np.ndarray, oos_scores: np.ndarray
) -> tuple[float, float]:
    """The floor with the best accuracy over in-scope + out-of-scope queries (the paper's rule).

    A query is rejected when its score is below the floor. An in-scope query counts as
    right when it is classified right and not rejected; an out-of-scope one when rejected.
    Candidate floors lie between consecutive observed scores, so ties are cut cleanly.
    Returns the floor and its accuracy; among equal accuracies the lowest floor wins.
    """
    scores = np.unique(np.concatenate([in_scores, oos_scores]))
    candidates = np.concatenate([[scores[0]], (scores[1:] + scores[:-1]) / 2, [scores[-1] + 1e-9]])
    total = len(in_scores) + len(oos_scores)
    # Sorted scores turn each candidate's counts into two binary searches.
    right_in = np.sort(in_scores[in_correct])
    oos_sorted = np.sort(oos_scores)
    kept_right = len(right_in) - np.searchsorted(right_in, candidates, side="left")
    rejected_oos = np.searchsorted(oos_sorted, candidates, side="left")
    accuracy = (kept_right + rejected_oos) / total
    best = int(np.argmax(accuracy))
    return float(candidates[best]), float(accuracy[best])


def split_threshold(
    in_scores: np.ndarray,
    in_correct: np.ndarray,
    oos_scores: np.ndarray,
    *,
    repeats: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall with a floor chosen on other queries.

    Without the test split, the floor chosen on ``val`` is scored on the same ``val``: an
    optimistic figure. Here ``val`` is cut in two halves at random (in-scope and
    out-of-scope queries each halved), the paper's floor is chosen on one half and scored
    on the other, both ways, and the figures are averaged over ``repeats`` cuts.
    """
    rng = np.random.default_rng(seed)
    accuracy, recall = [], []
    for _ in range(repeats):
        in_half = rng.permutation(len(in_scores)) < len(in_scores) // 2
        oos_half = rng.permutation(len(oos_scores)) < len(oos_scores) // 2
        for tune in (True, False):
            chosen_in, chosen_oos = in_half == tune, oos_half == tune
            floor, _ = paper_threshold(
                in_scores[chosen_in], in_correct[chosen_in], oos_scores[chosen_oos]
            )
            scored_in, scored_oos = ~chosen_in, ~chosen_oos
            accuracy.append((in_correct[scored_in] & (in_scores[scored_in] >= floor)).mean())
            recall.append((oos_scores[scored_oos] < floor).mean())
    return {
        "in_scope_accuracy": _pct(float(np.mean(accuracy))),
        "oos_recall": _pct(float(np.mean(recall))),
        "repeats": repeats,
    }


def add_typos(text: str, rng: random.Random, *, rate: float = TYPO_RATE) -> str:
    """One random edit (delete, insert, substitute or swap) in ``rate`` of the 4+-letter words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) < 4 or not word.isalpha() or rng.random() >= rate:
            continue
        pos = rng.randrange(len(word))
        op = rng.choice(("delete", "insert", "substitute", "swap"))
        letter = rng.choice(string.ascii_lowercase)
        if op == "delete":
            word = word[:pos] + word[pos + 1 :]
        elif op == "insert":
            word = word[:pos] + letter + word[pos:]
        elif op == "substitute":
            word = word[:pos] + letter + word[pos + 1 :]
        else:
            pos = min(pos, len(word) - 2)
            word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        words[i] = word
    return " ".join(words)


def _route(router: Router, texts: Sequence[str]) -> tuple[list[str], np.ndarray, list[str]]:
    """Best in-scope intent, its fused score (the out-of-scope score's opposite), decision."""
    best, scores, decisions = [], [], []
    for d in router.route_many(texts):
        best.append(d.alternatives[0].unit.id)
        scores.append(d.alternatives[0].score)
        decisions.append(d.decision)
    return best, np.asarray(scores), decisions


# Run in a fresh interpreter: this process holds the calibration's models and
# scikit-learn, whose hundred thousand objects slow every garbage collection of the
# routing (by about 30%); a user's process loads the stored model and nothing else.
_THROUGHPUT = """
import json, pickle, statistics, sys, time
SINGLES = 300
from router import Router
from router.pack import load_pack
root, texts, decisions, repeats, encoder = json.load(sys.stdin)
full, lean = [], []
for _ in range(repeats):
    # Afresh each time: cold caches, lazy state (and the encoder's cache: a new copy).
    router = Router.load(load_pack(root), encoder=encoder)
    started = time.perf_counter()
    assert [d.decision for d in router.route_many(texts)] == decisions
    full.append(time.perf_counter() - started)
    router = Router.load(load_pack(root), encoder=encoder)
    if encoder != "none":
        router = pickle.loads(pickle.dumps(router))  # a copy with an empty embedding cache
    started = time.perf_counter()
    assert [d.decision for d in router.route_many(texts, explain=False)] == decisions
    lean.append(time.perf_counter() - started)
# One question at a time, as a chat or a help desk asks: distinct texts (no cache hit)
# on a fresh router, after one question has loaded the lazy state.
router = Router.load(load_pack(root), encoder=encoder)
if encoder != "none":
    # A copy with an empty embedding cache: the runs above embedded these texts.
    router = pickle.loads(pickle.dumps(router))
router.route("warm up")
sys.path.insert(0, BENCHMARKS)
from latency import route_latencies
single = route_latencies(router, texts[:SINGLES])
print(json.dumps([
    len(texts) / statistics.median(full),
    len(texts) / statistics.median(lean),
    1000 * statistics.median(single),
]))
"""


def _count_encoded(router: Router) -> list[str]:
    """The texts ``router``'s encoder is given from now on (the list fills as it routes)."""
    seen: list[str] = []
    encoder = getattr(router.classifier_, "linear_", router.classifier_).encoder
    if encoder is not None:
        encode = encoder.encode

        def counted(texts: Sequence[str]) -> np.ndarray:
            seen.extend(texts)
            return encode(texts)

        encoder.encode = counted  # type: ignore[method-assign]
    return seen


def _scores(
    best: Sequence[str], scores: np.ndarray, decisions: Sequence[str], eval_in: Sequence[Item]
) -> dict[str, float]:
    """In-scope accuracy, out-of-scope recall and AUROC of routed evaluation texts (the
    in-scope ones first)."""
    n_in = len(eval_in)
    decided = np.array(decisions)
    right = (decided[:n_in] == "routed") & (np.array(best[:n_in]) == [y for _, y in eval_in])
    is_oos = np.r_[np.zeros(n_in), np.ones(len(scores) - n_in)]
    return {
        "in_scope_accuracy": _pct(right.mean()),
        "oos_recall": _pct((decided[n_in:] == "out_of_scope").mean()),
        "auroc": _pct(roc_auc_score(is_oos, 1.0 - np.asarray(scores))),
    }


def _throughput(
    root: Path, texts: Sequence[str], decisions: Sequence[str], encoder: str = "none"
) -> tuple[int, int, float]:
    """Queries per second with full evidence and in the bulk mode (``explain=False``, what
    batch jobs use): the median of ``REPEATS`` runs, each on a freshly loaded router; and
    the median milliseconds of one question routed on its own (300 distinct questions)."""
    repeats = REPEATS if encoder == "none" else ENCODER_REPEATS
    here = repr(str(Path(__file__).resolve().parent))
    done = subprocess.run(
        [sys.executable, "-c", _THROUGHPUT.replace("BENCHMARKS", here)],
        input=json.dumps([str(root), list(texts), list(decisions), repeats, encoder]),
        capture_output=True,
        text=True,
        check=True,
    )
    full, lean, single = json.loads(done.stdout)
    return round(full), round(lean), round(single, 2)


def _pct(x: float) -> float:
    return round(100.0 * float(x), 2)


def _cached_embeddings(encoder: Encoder, texts: Sequence[str], folder: Path) -> np.ndarray:
    """The embeddings of ``texts``, read from (or written to) ``folder``, which is keyed
    by the encoder's name and model sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{encoder.name}-{encoder.checksum[:16]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            known = dict(zip(data["texts"].tolist(), data["rows"]))
    else:
        known = {}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        known.update(zip(missing, encoder.encode(missing)))
        keys = list(known)
        np.savez(path, texts=np.asarray(keys, dtype=str), rows=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts])


def tune_fusion(
    pack: Any,
    encoder: str,
    *,
    weights: Sequence[float] = EMBEDDING_WEIGHTS,
    cs: Sequence[float] = SVM_CS,
    folds: int = TUNE_FOLDS,
    seed: int = 0,
) -> tuple[float, float, dict[str, float]]:
    """The embedding weight and SVM C with the best closed-set accuracy on held-out folds
    of the pack's training data; returns them and every setting's accuracy (a grid of one
    setting is taken as it is, without folds)."""
    if len(weights) == 1 and len(cs) == 1:
        return weights[0], cs[0], {}
    scores: dict[str, float] = {}
    best = (0.0, weights[0], cs[0])
    for weight in weights:
        for c in cs:
            clf = IntentClassifier(encoder=encoder, embedding_weight=weight, svm_C=c)
            logits, _, truth, _ = out_of_fold_scores(pack, folds=folds, seed=seed, classifier=clf)
            accuracy = float((logits.argmax(axis=1) == truth).mean())
            scores[f"weight={weight} C={c}"] = _pct(accuracy)
            if accuracy > best[0]:
                best = (accuracy, weight, c)
    return best[1], best[2], scores


def run(
    data_path: str | Path = DEFAULT_DATA,
    *,
    out_pack: str | Path | None = None,
    seed: int = 0,
    folds: int = 5,
    encoder: str = "none",
    embedding_cache: str | Path | None = None,
    weights: Sequence[float] = EMBEDDING_WEIGHTS,
    cs: Sequence[float] = SVM_CS,
) -> dict[str, Any]:
    """Convert, fit, choose the threshold on validation, evaluate; return the metrics.

    Percentages are 0-100. ``oos_score`` is ``1 - p`` with ``p`` the best intent's fused
    probability; the router rejects when ``p`` is below the floor.
    """
    data = read_clinc(data_path)
    model = get_encoder(encoder)
    pinned: Any = contextlib.nullcontext()
    if model is not None and embedding_cache is not None:
        every = list(dict.fromkeys(normalise(t) for items in data.values() for t, _ in items))
        pinned = model.pinned(every, _cached_embeddings(model, every, Path(embedding_cache)))
    with tempfile.TemporaryDirectory() as tmp, pinned:
        return _run(data, data_path, Path(tmp), out_pack, seed, folds, encoder, (weights, cs))


def _run(
    data: dict[str, list[Item]],
    data_path: str | Path,
    tmp: Path,
    out_pack: str | Path | None,
    seed: int,
    folds: int,
    encoder: str,
    grid: tuple[Sequence[float], Sequence[float]],
) -> dict[str, Any]:
    root = Path(out_pack) if out_pack is not None else tmp / "clinc150"
    write_pack(data["train"], root)

    # Temperature and fuzzy weight: the engine's own held-out calibration on train.
    started = time.perf_counter()
    pack = load_pack(root)
    fusion: dict[str, Any] = {}
    classifier = None
    if encoder != "none":
        weight, svm_c, tried = tune_fusion(pack, encoder, weights=grid[0], cs=grid[1], seed=seed)
        classifier = IntentClassifier(encoder=encoder, embedding_weight=weight, svm_C=svm_c)
        fusion = {
            "encoder": encoder,
            "embedding_weight": weight,
            "svm_C": svm_c,
            "fusion_chosen_on": (
                f"{TUNE_FOLDS}-fold held-out closed-set accuracy on train"
                if tried
                else "given (--weights, --svm-c)"
            ),
            "fusion_tried": tried,
        }
    calibration = fit_calibration(pack, folds=folds, seed=seed, classifier=classifier)
    gate = None
    if encoder != "none":
        # The encoder gate decides with the pack's own model and thresholds without an
        # encoder (fitted on the same folds, stored as `ai-office calibrate` stores them),
        # and is fitted on the out-of-fold scores of both: never on val.
        write_calibration(pack, fit_calibration(pack, folds=folds, seed=seed))
        write_model(pack)
        pack = load_pack(root)
        gate = fit_encoder_gate(pack, calibration, seed=seed)
        calibration = replace(calibration, gate=gate)
        fusion["encoder_gate"] = gate.as_dict()
        # Stored now, so that the floor below is chosen on the router that is evaluated.
        write_calibration(pack, calibration, encoder=encoder)
        pack = load_pack(root)
    calibrate_seconds = time.perf_counter() - started
    open_policy = replace(calibration.policy, floor=0.0, margin=0.0)

    # The out-of-scope threshold: the paper's rule on val + oos_val.
    router = Router.load(pack, policy=open_policy, classifier=classifier)
    val_in = [(t, y) for t, y in data["val"] if y != OOS]
    val_oos = [t for t, _ in data.get("oos_val", [])] + [t for t, y in data["val"] if y == OOS]
    pred, in_scores, _ = _route(router, [t for t, _ in val_in])
    _, oos_scores, _ = _route(router, val_oos)
    correct = np.array([p == y for p, (_, y) in zip(pred, val_in)])
    floor, val_accuracy = paper_threshold(in_scores, correct, oos_scores)
    held_out_floor = split_threshold(in_scores, correct, oos_scores, seed=seed)
    policy = replace(calibration.policy, floor=floor, margin=0.0)
    write_calibration(
        pack,
        CalibrationResult(
            policy=policy,
            utility=round(val_accuracy, 4),
            folds=folds,
            fingerprint=pack.fingerprint(),
            n_examples=calibration.n_examples,
            gate=gate,
        ),
        encoder=encoder,
    )

    # The pack as a user loads it, calibration stored: this is the fit time that counts
    # (a model stored by an earlier run into the same --out-pack would skip the fit).
    stored = root / "intents" / model_file(encoder)
    stored.unlink(missing_ok=True)
    started = time.perf_counter()
    pack = load_pack(root)
    loaded = time.perf_counter()
    router = Router.load(pack, classifier=classifier, encoder=encoder)
    fitted = time.perf_counter()
    assert router.policy_ == Policy(**policy.as_dict())
    # Store the fitted model too, so a kept pack (--out-pack) loads without refitting
    # (and the throughput run loads it).
    router.classifier_.save(stored, fingerprint=pack.fingerprint())

    split = "test" if "test" in data else "val"
    eval_in = [(t, y) for t, y in data[split] if y != OOS]
    eval_oos = [t for t, _ in data.get(f"oos_{split}", [])]
    eval_oos += [t for t, y in data[split] if y == OOS]
    texts = [t for t, _ in eval_in] + eval_oos
    encoded_texts = _count_encoded(router)
    best, scores, decisions = _route(router, texts)
    if gate is not None:
        fusion["encoded_share"] = round(len(encoded_texts) / len(texts), 4)
        # The same router encoding every question, for comparison.
        every = Router.load(pack, classifier=classifier, encoder=encoder, encode_all=True)
        fusion["encode_all"] = _scores(*_route(every, texts), eval_in)
    queries_per_second, lean_per_second, single_ms = _throughput(
        root, texts, decisions, encoder
    )

    n_in = len(eval_in)
    truth = np.array([y for _, y in eval_in])
    best_in, scores_in, scores_oos = np.array(best[:n_in]), scores[:n_in], scores[n_in:]
    decided = np.array(decisions)
    closed = best_in == truth
    main = _scores(best, scores, decisions, eval_in)
    oos_rejected = decided[n_in:] == "out_of_scope"
    flagged = decided == "out_of_scope"
    precision = oos_rejected.sum() / max(int(flagged.sum()), 1)
    recall = oos_rejected.mean()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def accuracy_at_recall(target: float) -> float:
        # The floor that rejects ``target`` of the out-of-scope queries (ties rejected too).
        cut = np.quantile(scores_oos, target, method="higher")
        return _pct((closed & (scores_in > cut)).mean())

    rng = random.Random(seed)
    noisy = [add_typos(t, rng) for t, _ in eval_in]
    noisy_best, _, _ = _route(router, noisy)
    noisy_closed = (np.array(noisy_best) == truth).mean()

    return {
        "data": str(data_path),
        "evaluated_on": f"{split} + oos_{split}",
        "threshold_chosen_on": "val + oos_val",
        "n_in_scope": n_in,
        "n_out_of_scope": len(eval_oos),
        "n_train": sum(1 for _, y in data["train"] if y != OOS),
        "n_intents": len(set(truth) | {y for _, y in data["train"] if y != OOS}),
        "in_scope_accuracy": main["in_scope_accuracy"],
        "oos_recall": main["oos_recall"],
        "oos_precision": _pct(precision),
        "oos_f1": _pct(f1),
        "auroc": main["auroc"],
        "closed_set_accuracy": _pct(closed.mean()),
        "in_scope_accuracy_at_80_oos_recall": accuracy_at_recall(0.8),
        "in_scope_accuracy_at_90_oos_recall": accuracy_at_recall(0.9),
        "typo_closed_set_accuracy": _pct(noisy_closed),
        "typo_cost": round(_pct(closed.mean()) - _pct(noisy_closed), 2),
        "typo_rate": TYPO_RATE,
        "val_accuracy_151": _pct(val_accuracy),
        # The floor chosen on one half of val, scored on the other: what the figures
        # above would be with a threshold not fitted on the queries it is scored on.
        "val_halves_floor": held_out_floor,
        "policy": policy.as_dict(),
        "model": router.classifier_.model_kind_,
        "load_seconds": round(loaded - started, 2),
        "fit_seconds": round(fitted - loaded, 2),
        "calibrate_seconds": round(calibrate_seconds, 2),
        "queries_per_second": queries_per_second,
        "queries_per_second_without_evidence": lean_per_second,
        "single_query_ms": single_ms,
        "seed": seed,
        **fusion,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="CLINC150 JSON file")
    parser.add_argument("--out-pack", default=None, help="keep the generated pack in DIR")
    parser.add_argument("--seed", type=int, default=0, help="seed of folds and typo noise")
    parser.add_argument(
        "--encoder", default="none", help="sentence encoder fused in: none, minilm, e5-small"
    )
    parser.add_argument(
        "--embedding-cache", default=None, help="keep the texts' embeddings in DIR (e.g. /tmp)"
    )
    parser.add_argument(
        "--weights", type=float, nargs="+", default=EMBEDDING_WEIGHTS, help="weights tried"
    )
    parser.add_argument("--svm-c", type=float, nargs="+", default=SVM_CS, help="SVM Cs tried")
    parser.add_argument("--folds", type=int, default=5, help="calibration folds")
    args = parser.parse_args(argv)
    result = run(
        args.data,
        out_pack=args.out_pack,
        seed=args.seed,
        encoder=args.encoder,
        embedding_cache=args.embedding_cache,
        weights=args.weights,
        cs=args.svm_c,
        folds=args.folds,
    )
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
