"""router.validate: reply templates, stored calibration and stored model are checked when a
pack loads; a bad one is one PackError naming the file and the command that fixes it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from router import PackError, Router, load_pack
from router.cli import cli
from router.linear import LinearTextModel
from router.training import write_model


@pytest.fixture
def stored(make_pack) -> Path:
    """A tiny pack with its fitted model stored, as ``ai-office calibrate`` leaves it."""
    root = make_pack()
    write_model(load_pack(root))
    return root


def rewrite_model(root: Path, change: Callable[[dict[str, np.ndarray]], None]) -> Path:
    path = root / "intents/model.npz"
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    return path


def set_meta(**values: object) -> Callable[[dict[str, np.ndarray]], None]:
    def change(arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["meta"]))
        meta.update(values)
        arrays["meta"] = np.array(json.dumps(meta))

    return change


def setitem(name: str, value: Callable[[np.ndarray], np.ndarray]):
    def change(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = value(arrays[name])

    return change


def nan_at_first(a: np.ndarray) -> np.ndarray:
    a = a.astype(a.dtype, copy=True)
    a.flat[0] = np.nan
    return a


def inf_at_first(a: np.ndarray) -> np.ndarray:
    a = a.astype(a.dtype, copy=True)
    a.flat[0] = np.inf
    return a


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (setitem("coef", nan_at_first), "'coef' must hold finite numbers"),
        (setitem("intercept", inf_at_first), "'intercept' must hold finite numbers"),
        (setitem("word_idf", nan_at_first), "'word_idf' must hold finite numbers"),
        (setitem("coef", lambda a: a[:, :-3]), "'coef' has shape"),
        (setitem("coef", lambda a: a.T.copy()), "'coef' has shape"),
        (setitem("intercept", lambda a: a[:0]), "'intercept' has shape"),
        (setitem("char_idf", lambda a: a[:-1]), "'char_idf' has shape"),
        (setitem("coef", lambda a: a.astype(np.int64)), "'coef' must hold finite numbers"),
        (setitem("classes", lambda a: a[:1]), "at least two distinct labels"),
        (setitem("pair_cols", lambda a: a + 10**6), "word-pair table"),
        (set_meta(char_ngram_range=[5, 2]), "char_ngram_range"),
        (set_meta(char_ngram_range="abc"), "char_ngram_range"),
        (set_meta(char_weight=float("nan")), "char_weight"),
        (set_meta(fingerprint=12), "fingerprint is not text"),
        (setitem("meta", lambda a: np.array("{not json")), "cannot read the stored model"),
        (setitem("meta", lambda a: np.array("[1, 2]")), "cannot read the stored model"),
    ],
)
def test_damaged_stored_model_is_a_pack_error_naming_the_fix(stored: Path, change, message) -> None:
    # These gave tracebacks, or NaN confidences with exit 0.
    path = rewrite_model(stored, change)
    with pytest.raises(PackError) as info:
        LinearTextModel.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text
    assert f"run 'ai-office calibrate --pack {stored}' to fit it again" in text


def test_model_file_that_is_no_zip_or_truncated_is_a_pack_error(stored: Path) -> None:
    path = stored / "intents/model.npz"
    whole = path.read_bytes()
    for broken in (whole[: len(whole) // 2], b"not a zip at all", b""):
        path.write_bytes(broken)
        with pytest.raises(PackError, match=r"cannot read the stored model .*calibrate --pack"):
            LinearTextModel.load(path)


def test_model_member_declaring_a_huge_array_is_refused_before_numpy_allocates_it(
    stored: Path,
) -> None:
    path = stored / "intents/model.npz"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    header += b" " * (118 - len(header)) + b"\n"
    members["coef.npy"] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(PackError, match=r"array coef\.npy declares \(100000000000,\)"):
        LinearTextModel.load(path)


def test_model_with_object_arrays_or_stray_members_is_refused(stored: Path) -> None:
    path = rewrite_model(stored, lambda arrays: arrays.update(extra=np.zeros(2)))
    with pytest.raises(PackError, match="is not a stored model: it holds other files"):
        LinearTextModel.load(path)
    path = rewrite_model(stored, lambda arrays: arrays.pop("coef"))
    with pytest.raises(PackError, match="is not a stored model: it lacks coef"):
        LinearTextModel.load(path)


def test_cli_with_nan_model_weights_exits_1_with_one_error_line(stored: Path) -> None:
    rewrite_model(stored, setitem("coef", nan_at_first))
    result = CliRunner().invoke(cli, ["ask", "--pack", str(stored), "where is my invoice"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "model.npz" in result.output and "Traceback" not in result.output


CALIBRATION = """\
calibration:
  fingerprint: abc
  policy:
    temperature: {temperature}
    fuzzy_weight: 0.3
    floor: 0.5
    margin: 0.05
    ask_below: 0.0
"""


@pytest.mark.parametrize(
    ("temperature", "message"),
    [
        ("0", "threshold temperature=0 must be a number from 0.001 to 1000.0"),
        ("abc", "threshold temperature='abc' must be a number"),
        (".nan", "threshold temperature=nan"),
        ("-1", "threshold temperature=-1"),
        ("true", "threshold temperature=True"),
        ("[1]", "threshold temperature=[1]"),
    ],
)
def test_bad_stored_calibration_is_a_pack_error_naming_the_fix(
    make_pack, temperature: str, message: str
) -> None:
    # temperature: 0 gave NaN confidences with exit 0; 'abc' a traceback.
    root = make_pack({"intents/calibration.yaml": CALIBRATION.format(temperature=temperature)})
    with pytest.raises(PackError) as info:
        load_pack(root)
    text = str(info.value)
    assert text.startswith(str(root / "intents/calibration.yaml")) and message in text
    assert f"run 'ai-office calibrate --pack {root}' to fit it again" in text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("calibration: {fingerprint: abc}\n", "expected a 'policy' mapping"),
        ("calibration:\n  policy: {floor: 0.5, speed: 2}\n", "unknown threshold 'speed'"),
        ("calibration:\n  policy: {floor: 7}\n", "threshold floor=7"),
        ("calibration:\n  fingerprint: [1]\n  policy: {}\n", "'fingerprint' must be text"),
        ("- just a list\n", "expected a mapping with a 'calibration' key"),
        ("calibration:\n  policy: {}\n  gate: 0.5\n", "the encoder gate must be a mapping"),
        ("calibration:\n  policy: {}\n  gate: {margin: 2}\n", "'margin' is a number from 0"),
        ("calibration:\n  policy: {}\n  gate: {margin: .nan}\n", "got {'margin': nan}"),
    ],
)
def test_malformed_calibration_file_is_refused(make_pack, document: str, message: str) -> None:
    with pytest.raises(PackError, match=message):
        load_pack(make_pack({"intents/calibration.yaml": document}))


def test_good_calibration_still_loads_and_routes(make_pack) -> None:
    root = make_pack({"intents/calibration.yaml": CALIBRATION.format(temperature="0.5")})
    assert load_pack(root).calibration["policy"]["temperature"] == 0.5


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ('  routed: "{nope}"\n', "message 'routed' uses {nope}, which it is not given"),
        ('  routed: "For {unit.__class__}"\n', "uses {unit.__class__}"),
        ('  routed: "For {unit[0]}"\n', "uses {unit[0]}"),
        ('  routed: "For {unit:>999999999}"\n', "uses {unit:>999999999}"),
        ('  routed: "For {unit!r}"\n', "uses {unit!r}"),
        ('  routed: "For {unit"\n', "message 'routed' is not a valid template"),
        ('  out_of_scope: "Not for us: {unit}"\n', "it may use {units}"),
        ('  clarify: "Which {units}?"\n', "it may use no {fields}"),
        ('  greeting: "Hello"\n', "unknown message 'greeting'"),
        ('  routed.billing: "{topic}"\n', "message 'routed.billing' uses {topic}"),
    ],
)
def test_reply_template_with_unknown_field_fails_at_load(make_pack, messages, message) -> None:
    # "{nope}" used to raise KeyError on every question instead of once, at load.
    root = make_pack({"corpus/pack.yaml": "name: Tiny\nmessages:\n" + messages})
    with pytest.raises(PackError, match=r"pack\.yaml, line 3: ") as info:
        load_pack(root)
    assert message in str(info.value)


def test_valid_templates_with_braces_and_per_unit_wording_load(make_pack) -> None:
    messages = (
        '  routed: "{{Desk}} {unit}."\n  routed.billing: "Money: {unit}."\n'
        '  topic.support: "{topic} by {unit}."\n'
    )
    router = Router.load(make_pack({"corpus/pack.yaml": "name: Tiny\nmessages:\n" + messages}))
    assert router.route("where is my invoice").answer.lead == "Money: Billing Desk."
    assert router.route("the app crashes on start").answer.lead == "{Desk} Technical Support."
