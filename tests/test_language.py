"""Replies worded in the question's language; quotes verbatim in English and marked."""

from __future__ import annotations

import json
import string

import pytest

from router import Conversation, Router
from router.catalogue import catalogue, message
from router.language import LANGUAGES, detect_language, language_from_locale
from router.render import confidence_words, render_decision, render_provisions
from router.repl import Chat, RouterLoader, greeting

# Short questions written for this test (not from tests/data, which is held out).
SHORT = {
    "en": ["who fines companies?", "where can I complain?", "what are the penalties?"],
    "fr": ["qui sanctionne les entreprises ?", "où porter plainte ?", "quelles sont les amendes ?"],
    "de": ["wer verhängt Bußgelder?", "wo kann ich mich beschweren?", "wie hoch sind die Strafen?"],
    "it": ["chi multa le aziende?", "dove posso fare reclamo?", "quali sono le sanzioni?"],
    "es": ["¿quién multa a las empresas?", "¿dónde puedo reclamar?", "¿cuáles son las multas?"],
}
OTHER = [
    "Een AI-app heeft mijn gegevens gelekt, waar kan ik klagen?",
    "Quem multa empresas que usam IA proibida?",
    "Kto nakłada kary na firmy używające zakazanej AI?",
    "Vem bötfäller företag som använder förbjuden AI?",
]
# Questions the bundled router routes surely, one per language.
ROUTED = {
    "en": "Who fines companies that use banned AI systems?",
    "fr": "Quelle autorité sanctionne les entreprises qui utilisent des systèmes d'IA interdits ?",
    "de": "Wer verhängt Bußgelder gegen Unternehmen, die verbotene KI-Systeme einsetzen?",
    "it": "A chi posso segnalare un sistema di IA vietato?",
    "es": "¿Quién sanciona a las empresas que usan sistemas de inteligencia artificial prohibidos?",
}
MARKERS = {lang: message("quoted_in_english", lang) for lang in LANGUAGES}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# -- the identifier ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_short_questions_are_identified(language: str) -> None:
    for question in SHORT[language]:
        assert detect_language(question) == language, question


@pytest.mark.parametrize("question", OTHER)
def test_other_languages_fall_back_to_english(question: str) -> None:
    assert detect_language(question) == "en"
    assert detect_language(question, default="fr") == "en"  # sure it is another language


@pytest.mark.parametrize("text", ["ok", "12345", "???", "GPAI?"])
def test_text_too_short_to_tell_gets_the_default(text: str) -> None:
    assert detect_language(text) == "en"
    assert detect_language(text, default="it") == "it"


def test_language_from_locale() -> None:
    assert language_from_locale({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert language_from_locale({"LC_ALL": "de_AT.UTF-8", "LANG": "fr_FR.UTF-8"}) == "de"
    assert language_from_locale({"LANG": "nl_NL.UTF-8"}) == "en"
    assert language_from_locale({"LANG": "C.UTF-8"}) == "en"
    assert language_from_locale({}) == "en"


# -- the catalogues ------------------------------------------------------------------------


def test_every_catalogue_key_is_in_all_five_languages_with_the_same_placeholders() -> None:
    for key, entry in catalogue().items():
        assert set(entry) == set(LANGUAGES), key
        for language in LANGUAGES:
            assert entry[language].strip(), (key, language)
            assert fields(entry[language]) == fields(entry["en"]), (key, language)


def test_every_pack_message_is_in_all_five_languages_with_the_same_placeholders(
    router: Router,
) -> None:
    messages = router.pack_.messages
    english = {k: v for k, v in messages.items() if k.split(".", 1)[0] not in LANGUAGES}
    assert {"routed", "clarify", "out_of_scope", "referral", "topic"} <= set(english)
    for key, text in english.items():
        for language in LANGUAGES[1:]:
            translated = messages.get(f"{language}.{key}")
            assert translated, f"{language}.{key} is missing from corpus/pack.yaml"
            assert fields(translated) == fields(text), (key, language)
            assert translated != text, (key, language)


def test_every_command_has_its_help_in_the_catalogue() -> None:
    from router.repl import COMMANDS

    for name in COMMANDS.commands:
        assert set(catalogue()[f"command.{name}"]) == set(LANGUAGES)


def test_unknown_language_falls_back_to_english() -> None:
    assert message("clarify_closing", "nl") == message("clarify_closing", "en")
    assert confidence_words(0.9, "pt") == confidence_words(0.9) == "high confidence"


# -- answers in each language --------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_routed_reply_is_worded_in_the_questions_language(router: Router, language: str) -> None:
    decision = router.route(ROUTED[language])
    assert decision.decision == "routed"
    assert decision.unit is not None and decision.unit.id == "regulation_compliance"
    assert decision.topic is None
    assert decision.language == language
    lead = router.answers_.message("routed", language).format(unit=decision.unit.name)
    assert decision.answer.lead == lead
    shown = render_decision(decision, width=100)
    assert " ".join(shown.split()).startswith(lead)
    assert confidence_words(decision.confidence, language) in shown
    # The same decision as the English question's, word for word in its quotes.
    english = router.route(ROUTED["en"])
    assert decision.answer.quotes == english.answer.quotes


@pytest.mark.parametrize("language", LANGUAGES)
def test_clarify_and_refusal_are_worded_in_each_language(router: Router, language: str) -> None:
    book = router.answers_
    first, second = router.pack_.units[0], router.pack_.units[1]
    clarify = book.clarify(first, second, language=language)
    assert clarify.lead == book.message("clarify", language)
    refusal = book.out_of_scope(language=language)
    assert refusal.lead.startswith(" ".join(book.message("out_of_scope", language).split()[:3]))
    assert first.name in refusal.lead  # unit names stay as published


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_other_languages_wording_differs_from_english(router: Router, language: str) -> None:
    book = router.answers_
    first, second = router.pack_.units[0], router.pack_.units[1]
    assert book.clarify(first, second, language=language).lead != book.clarify(first, second).lead
    assert book.out_of_scope(language=language).lead != book.out_of_scope().lead
    assert message("clarify_closing", language) != message("clarify_closing")


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendered_clarify_ends_with_the_question_in_its_language(
    router: Router, language: str
) -> None:
    decision = router.route(ROUTED["en"])
    # A clarify decision of the same question, as the policy makes when two units are close.
    import dataclasses

    clarify = dataclasses.replace(decision, decision="clarify", unit=None)
    clarify = router.answers_.in_language(clarify, language)
    shown = render_decision(clarify, width=100)
    assert shown.startswith(router.answers_.message("clarify", language)[:20])
    assert shown.rstrip().endswith(message("clarify_closing", language))


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_quotes_stay_verbatim_in_english_and_are_marked(router: Router, language: str) -> None:
    english = router.route(ROUTED["en"])
    assert english.unit is not None and english.unit.mandate is not None
    other = router.answers_.in_language(english, language)
    quote = f"\u201c{english.unit.mandate}\u201d"
    assert quote in str(other.answer) and quote in str(english.answer)
    citation = str(english.unit.citation)
    assert f"\u2014 {citation} ({MARKERS[language]})" in str(other.answer)
    assert all(marker not in str(english.answer) for marker in MARKERS.values())
    shown = render_decision(other, width=100)
    assert f"({MARKERS[language]})" in shown
    assert all(m not in render_decision(english, width=100) for m in MARKERS.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_provisions_heading_in_each_language_and_passages_marked(
    router: Router, language: str
) -> None:
    provision = router.law("Article 5(1)(a)")
    shown = render_provisions((provision,), width=100, language=language)
    assert message("act_heading", language) in shown
    assert provision.url in shown
    assert (f"({MARKERS[language]})" in shown) is (language != "en")


def test_unknown_language_reply_is_in_english(router: Router) -> None:
    decision = router.route(OTHER[0])
    assert decision.language == "en"
    assert decision.answer == router.answers_.in_language(decision, "en").answer
    assert all(marker not in render_decision(decision) for marker in MARKERS.values())


# -- the conversation, the chat and the command line ---------------------------------------


def test_a_short_follow_up_keeps_the_conversations_language(router: Router) -> None:
    talk = Conversation(router)
    first = talk.ask(ROUTED["fr"])
    assert first.language == "fr"
    follow = talk.ask("ok ?")
    assert follow.language == "fr"
    assert follow.answer == router.answers_.in_language(follow, "fr").answer
    switched = talk.ask("und auf Deutsch?")
    assert switched.language == "de"


def test_chat_speaks_the_last_questions_language(router: Router) -> None:
    chat = Chat(router.pack_, RouterLoader.ready(router), width=100, language="en")
    assert chat.handle("/why").text == message("chat.why_first", "en")
    chat.handle(ROUTED["it"])
    assert chat.language == "it"
    assert chat.handle("/help").text.startswith(message("chat.help_intro", "it"))
    assert message("command./units", "it") in chat.handle("/help").text
    unknown = chat.handle("/hlep").text
    assert unknown.startswith("Comando sconosciuto: /hlep.")
    assert message("chat.did_you_mean", "it", guess="/help") in unknown


def test_greeting_in_each_language(router: Router) -> None:
    units = [u for u in router.pack_.units if u.id != router.pack_.office_unit]
    for language in LANGUAGES:
        text = greeting(router.pack_, language)
        assert all(u.name in text for u in units)
        assert "/help" in text
    assert greeting(router.pack_, "de").startswith("Fragen Sie zu den 5 Referaten")
    assert greeting(router.pack_) == greeting(router.pack_, "en")


def test_ask_json_gives_the_language(runner) -> None:
    from router.cli import cli

    result = runner.invoke(cli, ["ask", "--json", ROUTED["es"]])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["language"] == "es"
    assert data["answer"].startswith("Esta pregunta corresponde a la Oficina Europea de IA")
    assert f"({MARKERS['es']})" in data["answer"]


def test_ask_lang_overrides_the_detected_language(runner, router: Router) -> None:
    from router.cli import cli

    result = runner.invoke(cli, ["ask", "--lang", "de", ROUTED["en"]])
    assert result.exit_code == 0, result.output
    unit = router.route(ROUTED["en"]).unit
    assert unit is not None
    lead = router.answers_.message("routed", "de").format(unit=unit.name)
    assert " ".join(result.output.split()).startswith(lead)
    assert f"({MARKERS['de']})" in result.output
    bad = runner.invoke(cli, ["ask", "--lang", "nl", ROUTED["en"]])
    assert bad.exit_code == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_evidence_labels_follow_the_question(router: Router, language: str) -> None:
    from router.render import render_evidence

    decision = router.route(ROUTED[language])
    lines = render_evidence(decision, width=60).splitlines()
    decided = message("why.decision", language).split("{")[0]
    at = next(i for i, line in enumerate(lines) if line.startswith(decided))
    # The question's line wraps under its label: joined again, it is the label and the text.
    assert " ".join(line.strip() for line in lines[:at]) == (
        f"{message('why.question', language)} {decision.text}"
    )
    assert any(line.startswith(message("why.top", language)) for line in lines)
    assert render_evidence(decision, language="en").startswith("Question: ")


#: A follow-up in each language, for the notes' wording (written for this test).
FOLLOW_UP = {"fr": "et qui dois-je contacter ?", "de": "und wen kontaktiere ich?"}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_evidence_notes_are_worded_in_the_questions_language(
    router: Router, language: str
) -> None:
    from router.render import render_evidence

    talk = Conversation(router)
    talk.ask(ROUTED[language])
    follow = talk.ask(FOLLOW_UP[language])
    assert follow.language == language
    assert [n.code for n in follow.evidence.notes] == ["follow_up"]
    note = message("note.follow_up", language, previous=ROUTED[language])
    assert note != message("note.follow_up", "en", previous=ROUTED[language])
    why = " ".join(render_evidence(follow, width=10**6).split())
    assert f"{message('why.note', language)} {note}" in why
    assert "read as a follow-up" not in why
    decided = message("why.decision.routed", language)
    assert message("why.decision", language, decision=decided, confidence="") in why.replace(
        f"{follow.confidence:.2f}", ""
    )
    # The reply's own note, and a note the router itself adds (a question cut short).
    assert message("note", language, note=note) in " ".join(render_decision(follow).split())
    long = router.route((ROUTED[language] + " ") * 80)
    assert long.language == language and [n.code for n in long.evidence.notes] == ["truncated"]
    cut = message("note.truncated", language, limit="5000")
    assert message("note", language, note=cut) in " ".join(render_decision(long).split())


def test_ask_json_why_words_the_notes_and_keeps_their_codes(runner) -> None:
    from router.cli import cli

    result = runner.invoke(cli, ["ask", "--json", "--why", (ROUTED["de"] + " ") * 80])
    assert result.exit_code == 0, result.output
    evidence = json.loads(result.output)["evidence"]
    assert evidence["note_codes"] == ["truncated"]
    assert evidence["notes"] == [message("note.truncated", "de", limit="5000")]
    assert evidence["truncated"] is True


# -- referrals -----------------------------------------------------------------------------


def test_every_referral_is_worded_in_the_four_other_languages(router: Router) -> None:
    from router.answers import REFERRALS_TRANSLATED_FILE, read_referral_wording

    pack = router.pack_
    ids = {r.id for r in pack.referrals}
    wording = read_referral_wording(pack.corpus_dir / REFERRALS_TRANSLATED_FILE, ids)
    assert ids
    assert set(wording) == {(rid, lang) for rid in ids for lang in LANGUAGES[1:]}
    english = {r.id: r.why for r in pack.referrals}
    assert all(why != english[rid] for (rid, _), (_, why) in wording.items())


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_referral_reply_in_each_language(router: Router, language: str) -> None:
    from router.answers import REFERRALS_TRANSLATED_FILE, read_referral_wording

    referral = next(r for r in router.pack_.referrals if r.id == "eu_maladministration")
    path = router.pack_.corpus_dir / REFERRALS_TRANSLATED_FILE
    ids = {r.id for r in router.pack_.referrals}
    body, why = read_referral_wording(path, ids)[referral.id, language]
    answer = router.answers_.out_of_scope(referral, language=language)
    assert body in answer.lead and " ".join(why.split()) in answer.lead
    assert referral.url in answer.lead
    assert referral.why not in answer.lead
    assert answer.quotes == router.answers_.out_of_scope(referral).quotes  # verbatim


def test_referral_wording_errors_name_the_file_and_line(tmp_path) -> None:
    from router.answers import read_referral_wording
    from router.errors import PackError

    path = tmp_path / "referrals_translated.yaml"
    path.write_text("petitions:\n  fr:\n    body: le Parlement\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"line 3.*petitions\.fr: give both body and why"):
        read_referral_wording(path, {"petitions"})
    path.write_text("nope:\n  fr: {body: a, why: b}\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"no referral 'nope'"):
        read_referral_wording(path, {"petitions"})
    path.write_text("petitions:\n  nl: {body: a, why: b}\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"'nl' is not one of fr, de, it, es"):
        read_referral_wording(path, {"petitions"})
    assert read_referral_wording(tmp_path / "missing.yaml", {"petitions"}) == {}
