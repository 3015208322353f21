"""Checks of what a pack stores beside its YAML data: reply templates, the fitted
calibration and the fitted model, made when the pack loads.

A bad stored file is a :class:`PackError` naming the file and the command that writes it
again, never a traceback or NaN confidences later: a template with an unknown ``{field}``
would fail on every question, a temperature of 0 divides by zero, a NaN weight makes
every confidence NaN, and an array of the wrong shape fails only on some questions.
"""

from __future__ import annotations

import math
import string
import zipfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import PackError
from .language import LANGUAGES as REPLY_LANGUAGES
from .packfiles import MAX_MODEL_BYTES, open_regular

if TYPE_CHECKING:
    from .linear import LinearTextModel

__all__ = [
    "POLICY_RANGES",
    "calibrate_hint",
    "check_calibration",
    "check_messages",
    "check_model",
    "check_model_file",
    "number_in",
]

#: The fields each reply template may use; ``routed.<unit>`` and ``topic.<unit>`` take
#: those of ``routed`` and ``topic``.
MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "routed": frozenset({"unit"}),
    "out_of_scope": frozenset({"units"}),
    "clarify": frozenset(),
    "topic": frozenset({"topic", "unit"}),
    "topic_unquoted": frozenset({"topic"}),
    "referral": frozenset({"body", "why", "url"}),
    "contacts": frozenset(),
}

#: The allowed range of each stored threshold (inclusive). A temperature near 0 overflows
#: the softmax; a floor above 1 means "never route" and is allowed up to 1.01.
POLICY_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.001, 1000.0),
    "fuzzy_weight": (0.0, 100.0),
    "floor": (0.0, 1.01),
    "margin": (0.0, 1.0),
    "ask_below": (0.0, 1.0),
}

#: The arrays of a stored model (``pair_keys`` and ``pair_cols`` are optional).
_MODEL_ARRAYS = frozenset(
    {"meta", "classes", "word_terms", "char_terms", "word_idf", "char_idf", "coef", "intercept"}
)
_OPTIONAL_ARRAYS = frozenset({"pair_keys", "pair_cols"})


def calibrate_hint(path: Path, *, encoder: str | None = None) -> str:
    """The command that writes a pack's stored calibration and model again, for the pack
    that holds ``path`` (a file somewhere under its ``intents/`` folder), with ``encoder``
    (named unless None or ``none``)."""
    option = "" if encoder in (None, "none") else f" --encoder {encoder}"
    for parent in path.parents:
        if parent.name == "intents" or _is_bundled(parent):
            if _is_bundled(parent):
                return f"run 'ai-office calibrate{option}' to fit it again"
            return f"run 'ai-office calibrate --pack {parent.parent}{option}' to fit it again"
    return f"run 'ai-office calibrate --pack PACK{option}' to fit it again"


def _is_bundled(folder: Path) -> bool:
    try:
        return folder.resolve() == Path(str(resources.files("router.intents"))).resolve()
    except (OSError, ModuleNotFoundError):
        return False


def check_messages(messages: dict[str, str], path: Path, *, line: int | None = None) -> None:
    """Refuse a reply template that would fail (or leak data) when a reply is composed.

    Each ``{field}`` must be one its message is given, plain: no ``{unit.attr}``, no
    ``{unit[0]}``, no format spec or conversion, and braces must pair (``{{`` is a brace).

    Raises:
        PackError: names the message and the fields it may use.
    """
    for key, template in messages.items():
        # "fr.routed": the same message worded in another reply language.
        lang, _, rest = key.partition(".")
        base, dot, _ = (rest if lang in REPLY_LANGUAGES and rest else key).partition(".")
        if base not in MESSAGE_FIELDS or (dot and base not in ("routed", "topic")):
            known = ", ".join(MESSAGE_FIELDS)
            raise PackError(
                f"unknown message {key!r}; the messages are {known} (and routed.<unit>, "
                "topic.<unit> for one unit, each also as fr.<message> and the like)",
                path=path,
                line=line,
            )
        allowed = MESSAGE_FIELDS[base]
        fields = ", ".join("{" + f + "}" for f in sorted(allowed)) or "no {fields}"
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise PackError(
                f"message {key!r} is not a valid template ({exc}); write a brace as {{{{ or "
                f"}}}}; it may use {fields}",
                path=path,
                line=line,
            ) from exc
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                shown = "{" + name + ("!" + conversion if conversion else "")
                shown += (":" + spec if spec else "") + "}"
                raise PackError(
                    f"message {key!r} uses {shown}, which it is not given; it may use {fields}",
                    path=path,
                    line=line,
                )


def number_in(value: Any, low: float, high: float) -> bool:
    """Whether ``value`` is a finite number (not a bool) from ``low`` to ``high``."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value) and low <= value <= high


def check_calibration(data: Any, path: Path) -> dict[str, Any]:
    """The ``calibration`` mapping of a stored ``calibration.yaml``, its thresholds checked
    to be finite numbers in :data:`POLICY_RANGES`.

    Raises:
        PackError: names the file, the setting and the command that writes it again.
    """
    hint = calibrate_hint(path)
    if not isinstance(data, dict) or not isinstance(data.get("calibration"), dict):
        raise PackError(f"expected a mapping with a 'calibration' key; {hint}", path=path)
    calibration = dict(data["calibration"])
    fingerprint = calibration.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise PackError(f"'fingerprint' must be text; {hint}", path=path)
    policy = calibration.get("policy")
    if not isinstance(policy, dict):
        raise PackError(f"expected a 'policy' mapping of thresholds; {hint}", path=path)
    for key, value in policy.items():
        if key not in POLICY_RANGES:
            known = ", ".join(POLICY_RANGES)
            raise PackError(f"unknown threshold {key!r} (known: {known}); {hint}", path=path)
        low, high = POLICY_RANGES[key]
        if not number_in(value, low, high):
            raise PackError(
                f"threshold {key}={value!r} must be a number from {low} to {high}; {hint}",
                path=path,
            )
    gate = calibration.get("gate")
    if gate is not None:
        margin = gate.get("margin") if isinstance(gate, dict) else None
        # Up to router.policy.NEVER_SKIP (not imported: router.policy depends on this module).
        if not number_in(margin, 0.0, 1.01):
            raise PackError(
                f"the encoder gate must be a mapping whose 'margin' is a number from 0 to "
                f"1.01, got {gate!r}; {hint}",
                path=path,
            )
    return calibration


def check_model_file(path: Path) -> None:
    """Check a stored ``model.npz`` before NumPy reads it: a regular file, a valid zip of
    the expected arrays, none holding Python objects, none bigger than the data it stores
    (a header can declare any shape, and NumPy would allocate it), the total bounded.

    Raises:
        PackError: names the file and the command that writes it again.
    """
    from numpy.lib import format as npy

    hint = calibrate_hint(path)
    fd = open_regular(path, limit=MAX_MODEL_BYTES)
    try:
        with open(fd, "rb") as handle, zipfile.ZipFile(handle) as archive:
            members = {info.filename: info for info in archive.infolist()}
            names = {name.removesuffix(".npy") for name in members}
            missing = sorted(_MODEL_ARRAYS - names)
            unknown = sorted(names - _MODEL_ARRAYS - _OPTIONAL_ARRAYS)
            if missing or unknown or len(names) != len(members):
                what = f"lacks {', '.join(missing)}" if missing else "holds other files"
                raise PackError(f"is not a stored model: it {what}; {hint}", path=path)
            if sum(info.file_size for info in members.values()) > MAX_MODEL_BYTES:
                raise PackError(
                    f"unpacks to more than {MAX_MODEL_BYTES:,} bytes; {hint}", path=path
                )
            for name, info in members.items():
                with archive.open(info) as member:
                    version = npy.read_magic(member)
                    if version == (1, 0):
                        shape, _, dtype = npy.read_array_header_1_0(member)
                    else:
                        shape, _, dtype = npy.read_array_header_2_0(member)
                    declared = math.prod(shape) * dtype.itemsize
                    if dtype.hasobject or declared > info.file_size:
                        raise PackError(
                            f"array {name} declares {shape} of {dtype}, which it does not "
                            f"hold; {hint}",
                            path=path,
                        )
    except PackError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise PackError(f"cannot read the stored model ({exc}); {hint}", path=path) from exc


def check_model(model: LinearTextModel, path: Path) -> None:
    """Check a loaded model's arrays agree: shapes, dtypes, finite values, index ranges.

    Raises:
        PackError: names the file, what is wrong and the command that writes it again.
    """
    encoder = getattr(model, "encoder", None)
    hint = calibrate_hint(path, encoder=None if encoder is None else encoder.name)

    def bad(what: str) -> PackError:
        return PackError(f"the stored model is damaged: {what}; {hint}", path=path)

    classes = np.asarray(model.classes_)
    n_word, n_char = len(model.word_vocab_), len(model.char_vocab_)
    if classes.ndim != 1 or len(classes) < 2 or len(set(classes.tolist())) != len(classes):
        raise bad("'classes' must list at least two distinct labels")
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    rows = 1 if len(classes) == 2 else len(classes)
    n_dense = 0 if encoder is None else encoder.dim  # the embedding columns, last
    if coef.shape != (rows, n_word + n_char + n_dense):
        raise bad(f"'coef' has shape {coef.shape}, expected {(rows, n_word + n_char + n_dense)}")
    weight = getattr(model, "embedding_weight", 0.0)
    if not (math.isfinite(weight) and weight >= 0):
        raise bad(f"embedding_weight {weight!r} must be a finite number >= 0")
    if intercept.shape != (rows,):
        raise bad(f"'intercept' has shape {intercept.shape}, expected {(rows,)}")
    for name, array, size in (
        ("word_idf", np.asarray(model.word_idf_), n_word),
        ("char_idf", np.asarray(model.char_idf_), n_char),
    ):
        if array.shape != (size,):
            raise bad(f"{name!r} has shape {array.shape}, expected {(size,)}")
    for name in ("coef", "intercept", "word_idf", "char_idf"):
        array = np.asarray(getattr(model, name + "_"))
        # A NaN or infinity anywhere makes the sum one (a float64 sum of float32 weights
        # cannot overflow): one pass, no mask the size of the matrix.
        if array.dtype.kind != "f" or not np.isfinite(array.sum(dtype=np.float64)):
            raise bad(f"{name!r} must hold finite numbers")
    state = getattr(model, "_state", None)  # the scorer holds the stored word-pair table
    if state is not None and getattr(state, "pair_keys", None) is not None:
        keys, cols = np.asarray(state.pair_keys), np.asarray(state.pair_cols)
        if (
            keys.ndim != 1
            or keys.shape != cols.shape
            or keys.dtype.kind not in "iu"
            or cols.dtype.kind not in "iu"
            or (len(keys) and (keys.min() < 0 or keys.max() >= n_word * n_word))
            or (len(cols) and (cols.min() < 0 or cols.max() >= n_word))
            or (len(keys) > 1 and bool((np.diff(keys) < 0).any()))
        ):
            raise bad("the word-pair table does not fit the vocabulary")
    low_high = model.char_ngram_range
    if not (
        isinstance(low_high, tuple)
        and len(low_high) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in low_high)
        and 1 <= low_high[0] <= low_high[1] <= 20
    ):
        raise bad(f"char_ngram_range {low_high!r} must be two whole numbers, 1 <= low <= high")
    if not (math.isfinite(model.char_weight) and model.char_weight >= 0):
        raise bad(f"char_weight {model.char_weight!r} must be a finite number >= 0")
