"""The AI Act as citable passages: verbatim text, references, lookup and retrieval floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import InputError, PackError, RouterError
from router.law.evaluate import evaluate_provisions, read_labelled_provisions
from router.law.parse import collapse, quote_cut
from router.law.references import named_references
from router.law.retrieval import ProvisionIndex, load_provisions, read_settings
from router.pack import bundled_dirs

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "sources" / "ai_act_regulation_2024_1689.md"


@pytest.fixture(scope="module")
def source() -> str:
    corpus, _ = bundled_dirs()
    return (corpus / "sources" / "ai_act_regulation_2024_1689.md").read_text(encoding="utf-8")


def test_every_passage_is_verbatim_in_the_source(index: ProvisionIndex, source: str) -> None:
    for p in index.passages:
        assert p.text, p.reference
        assert source[p.start : p.end] == p.text, p.reference
        assert p.text in source, p.reference


def test_quotes_are_the_passage_with_line_wraps_joined(index: ProvisionIndex, source: str) -> None:
    joined = collapse(source)
    for p in index.passages[::7]:
        provision = index.provision(p)
        assert provision.full_text in joined, p.reference
        shown = provision.text.removesuffix(" \u2026")
        assert provision.full_text.startswith(shown), p.reference


@pytest.mark.skipif(not SHARED.is_file(), reason="the shared source folder is not here")
def test_the_corpus_copy_is_byte_for_byte_the_shared_file(source: str) -> None:
    assert source.encode("utf-8") == SHARED.read_bytes()


def test_the_act_has_its_recitals_articles_and_annexes(index: ProvisionIndex) -> None:
    kinds = [p.kind for p in index.passages]
    assert kinds.count("recital") == 180
    assert kinds.count("article") == 113
    assert kinds.count("annex") == 13
    refs = set(index.by_reference)
    assert {"Recital 111", "Article 101(1)", "Article 5(1)(a)", "Annex XIII"} <= refs
    assert {"Article 3(47)", "Article 113, point (a)", "Annex III, point 4(a)"} <= refs


@pytest.mark.parametrize(
    ("reference", "starts", "ends"),
    [
        ("Article 5(1)(a)", "the placing on the market", "significant harm;"),
        # Sub-points (i)-(iii) belong to point (h); the subparagraph after them does not.
        ("Article 5(1)(h)", "the use of \u2018real-time\u2019", "at least four years."),
        ("Article 3(47)", "\u2018AI Office\u2019 means", "references to the Commission;"),
        ("Article 64(1)", "The Commission shall develop", "through the AI Office."),
        ("Article 101(1)", "The Commission may impose", "in accordance with Article 56."),
        ("Annex III, point 5(b)", "AI systems intended to be used to evaluate the credit", ";"),
        ("Recital 1", "The purpose of this Regulation", "authorised by this Regulation."),
    ],
)
def test_passages_start_and_end_where_the_provision_does(
    index: ProvisionIndex, reference: str, starts: str, ends: str
) -> None:
    passage = index.get(reference)
    assert passage is not None
    text = collapse(passage.text)
    assert text.startswith(starts)
    assert text.endswith(ends)


def test_links_are_eli_identifiers_of_the_article_recital_or_annex(index: ProvisionIndex) -> None:
    base = "http://data.europa.eu/eli/reg/2024/1689/oj"
    assert index.get("Article 101(1)").url == f"{base}/art_101"  # type: ignore[union-attr]
    assert index.get("Recital 111").url == f"{base}/rct_111"  # type: ignore[union-attr]
    assert index.get("Annex XIII").url == f"{base}/anx_XIII"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("question", "refs"),
    [
        ("what does Article 50 say?", ["Article 50"]),
        ("art. 5(1)(a)", ["Article 5(1)(a)"]),
        ("Art 5 (1) (a) and Annex III", ["Article 5(1)(a)", "Annex III"]),
        ("Artikel 50", ["Article 50"]),
        ("article 50", ["Article 50"]),
        ("Article 53, paragraph 1, point (c)", ["Article 53(1)(c)"]),
        ("Article 113, point (a)", ["Article 113(a)"]),
        ("considérant 111", ["Recital 111"]),
        ("Anhang XIII", ["Annex XIII"]),
        ("what is the weather?", []),
    ],
)
def test_named_references(question: str, refs: list[str]) -> None:
    assert named_references(question) == refs


def test_named_provisions_are_returned_directly(index: ProvisionIndex) -> None:
    found = index.search("what does Article 50 say?")
    assert [p.reference for p in found] == ["Article 50"]
    assert found[0].named
    assert found[0].text.endswith("\u2026")  # a whole article is quoted in part
    assert found[0].title.startswith("Transparency obligations")
    assert [p.reference for p in index.search("Annex III")] == ["Annex III"]
    assert [p.reference for p in index.search("Article 113(a)")] == ["Article 113, point (a)"]
    assert index.search("what does Article 200 say?") == ()


def test_quote_cut_ends_at_a_sentence() -> None:
    text = "First sentence here. Second one, longer than the first. Third."
    assert quote_cut(text, 100) == text
    assert quote_cut(text, 40) == "First sentence here. \u2026"
    assert quote_cut("word " * 100, 50).endswith(" \u2026")


def test_retrieval_cites_the_rule_and_nothing_for_off_topic_questions(
    index: ProvisionIndex,
) -> None:
    cited = index.search("must deepfakes be labelled?", "regulation_compliance")
    assert cited and cited[0].reference == "Article 50(4)"
    assert not cited[0].named
    assert index.search("what is the weather in Brussels tomorrow?") == ()
    assert len(index.search("what fines can a general-purpose AI provider face?")) <= 3


def test_the_routed_unit_counts(index: ProvisionIndex) -> None:
    question = "what fines can a provider face?"
    plain, _ = index.scores([question], [None])
    boosted, _ = index.scores([question], ["regulation_compliance"])
    row = [p.reference for p in index.passages if p.indexed].index("Article 101(3)")
    assert boosted[0, row] > plain[0, row]


def test_search_many_matches_search(index: ProvisionIndex) -> None:
    questions = ["is social scoring banned?", "art. 5(1)(a)", "hello", "who counts as a deployer?"]
    units = ["regulation_compliance", None, None, "regulation_compliance"]
    assert index.search_many(questions, units) == [
        index.search(q, u) for q, u in zip(questions, units)
    ]


def test_labelled_set_holds_its_floors(index: ProvisionIndex) -> None:
    questions = read_labelled_provisions(REPO / "tests" / "data" / "provisions.yaml")
    assert len(questions) >= 80
    assert sum(not q.provisions for q in questions) >= 15
    for q in questions:  # every label names a real passage
        for ref in q.provisions:
            assert index.get(ref) is not None, (q.text, ref)
    result = evaluate_provisions(index, questions)
    assert result.precision_at_1 >= 0.80, result.errors
    assert result.recall_at_3 >= 0.60, result.errors
    assert result.none_accuracy >= 0.90, result.errors


def test_errors_are_router_errors(tmp_path: Path) -> None:
    assert load_provisions(tmp_path) is None  # a pack without provisions.yaml cites nothing
    (tmp_path / "provisions.yaml").write_text("source: {file: act.md, eli: x}\n")
    (tmp_path / "act.md").write_text("not the act\n")
    with pytest.raises(PackError, match=r"act\.md"):
        load_provisions(tmp_path)
    (tmp_path / "provisions.yaml").write_text("nothing: here\n")
    with pytest.raises(PackError, match=r"provisions\.yaml"):
        load_provisions(tmp_path)
    bad = tmp_path / "labels.yaml"
    bad.write_text("questions:\n  - text: hi\n")
    with pytest.raises(InputError, match="question 1"):
        read_labelled_provisions(bad)
    assert issubclass(PackError, RouterError)


def test_a_stopword_yaml_reads_as_a_boolean_names_its_line(tmp_path: Path) -> None:
    settings = tmp_path / "provisions.yaml"
    settings.write_text("source: {file: act.md, eli: x}\nstopwords:\n  - the\n  - on\n")
    with pytest.raises(PackError, match=r"provisions\.yaml.*line 4.*quote it") as caught:
        read_settings(settings)
    assert "True" in str(caught.value)
    settings.write_text('source: {file: act.md, eli: x}\nstopwords: [the, "on"]\n')
    assert read_settings(settings).stopwords == {"the", "on"}


def test_bundled_stopwords_are_all_words(index: ProvisionIndex) -> None:
    assert {"on", "no"} <= index.settings.stopwords
    assert all(isinstance(w, str) for w in index.settings.stopwords)


def test_decisions_carry_the_provisions(router) -> None:  # type: ignore[no-untyped-def]
    decision = router.route("what does Article 50 say?")
    assert [p.reference for p in decision.provisions] == ["Article 50"]
    data = decision.to_dict()
    assert data["provisions"][0]["reference"] == "Article 50"
    assert data["provisions"][0]["url"].endswith("/art_50")
    assert router.route("recommend a good pasta recipe").provisions == ()
    questions = ["must deepfakes be labelled?", "hello", "art. 5(1)(a)"]
    assert [d.provisions for d in router.route_many(questions)] == [
        router.route(q).provisions for q in questions
    ]


def test_ask_shows_the_provisions_under_the_mandate() -> None:
    import json
    import subprocess
    import sys

    def ask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "router", "ask", *args],
            capture_output=True,
            text=True,
            env={"NO_COLOR": "1", "PATH": ""},
            check=False,
        )

    shown = ask("what does Article 5(1)(a) say?")
    assert shown.returncode == 0, shown.stderr
    assert "\u00a7 Article 5(1)(a) \u2014 Prohibited AI practices" in shown.stdout
    assert "http://data.europa.eu/eli/reg/2024/1689/oj/art_5" in shown.stdout
    data = json.loads(ask("--json", "Annex XIII").stdout)
    assert [p["reference"] for p in data["provisions"]] == ["Annex XIII"]


def test_batch_rows_list_the_references(router) -> None:  # type: ignore[no-untyped-def]
    from router.batch import outcomes

    rows = outcomes(router, ["art. 5(1)(a) and Annex III", "recommend a good pasta recipe"])
    assert [r[5] for r in rows] == ["Article 5(1)(a); Annex III", ""]


def test_chat_law_quotes_the_last_answers_provisions_in_full(router) -> None:  # type: ignore[no-untyped-def]
    from router.repl import Chat, RouterLoader

    chat = Chat(router.pack_, RouterLoader.ready(router))
    assert "Ask a question first" in chat.handle("/law").text
    answer = chat.handle("what does Article 50 say?").text
    assert "\u00a7 Article 50 \u2014 Transparency obligations" in answer
    law = chat.handle("/law").text
    full = router.route("Article 50").provisions[0].full_text
    assert law.startswith("In the AI Act")
    assert collapse(law.replace("\u2502", " ")).endswith(
        collapse(full[-60:]) + "\u201d " + ("http://data.europa.eu/eli/reg/2024/1689/oj/art_50")
    )
    assert "/law" in chat.handle("/help").text
    chat.handle("recommend a good pasta recipe")
    assert "cites no AI Act provision" in chat.handle("/law").text
