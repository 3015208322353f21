"""The chat REPL, driven in-process through prompt-toolkit's pipe input and DummyOutput."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from router import InputError, Router
from router.policy import Policy
from router.repl import (
    COMMANDS,
    Chat,
    ChatCompleter,
    RouterLoader,
    greeting,
    history_path,
    make_history,
    make_session,
    run_lines,
    run_repl,
)

QUESTION = "who fines GPAI providers?"
# With the clarify router below this question is between the Excellence and Safety units.
AMBIGUOUS = "funding for safety research"


def drive(
    router: Router, keys: str, *, greet: bool = False, history: History | None = None
) -> tuple[int, str, Chat]:
    """Run the real REPL loop on ``keys``; return the exit code, what it printed, the chat."""
    chat = Chat(router.pack_, RouterLoader.ready(router), width=100, language="en")
    out = io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        session = make_session(
            chat,
            history if history is not None else InMemoryHistory(),
            input=pipe,
            output=DummyOutput(),
        )
        code = run_repl(chat, session, out=out, greet=greet)
    return code, out.getvalue(), chat


def mandate_start(router: Router, unit_id: str) -> str:
    mandate = router.pack_.unit(unit_id).mandate
    assert mandate is not None
    return "\u201c" + " ".join(mandate.split()[:4])


@pytest.fixture(scope="module")
def clarifying() -> Router:
    """A router that asks back whenever the best two units are within 0.5 of each other."""
    return Router.load(policy=Policy(temperature=0.5693, fuzzy_weight=0.8, floor=0.4, margin=0.5))


# -- questions, greeting, leaving ---------------------------------------------------------


def test_question_gets_unit_quoted_mandate_and_citation(router: Router) -> None:
    code, out, _ = drive(router, QUESTION + "\r\x04")
    assert code == 0
    assert "\u2192 Regulation and Compliance Unit (high confidence" in out
    assert mandate_start(router, "regulation_compliance") in out
    assert "\u2014 European Commission" in out


def test_out_of_scope_and_office_questions(router: Router) -> None:
    keys = "what is the weather in Paris tomorrow?\rWhat does the AI Office do?\r\x04"
    _, out, _ = drive(router, keys)
    assert "does not appear to be one for the EU AI Office" in out
    assert "This is a question about the EU AI Office itself." in out
    assert mandate_start(router, "about_office") in out


def test_misspelled_question_is_routed(router: Router) -> None:
    _, out, _ = drive(router, "who handles sistemic risk testing?\r\x04")
    assert "\u2192 AI Safety Unit" in out


def test_greeting_names_the_five_units_and_help(router: Router) -> None:
    _, out, _ = drive(router, "\x04", greet=True)
    assert out == greeting(router.pack_, width=100) + "\n"
    lines = out.splitlines()
    named = [u for u in router.units if u.id != "about_office"]
    assert len(named) == 5
    for unit in named:  # each name whole on one line
        assert any(unit.name in line for line in lines), unit.name
    assert "/help" in out


def test_ctrl_d_on_empty_line_exits_quietly(router: Router) -> None:
    assert drive(router, "\x04")[:2] == (0, "")


def test_ctrl_c_discards_the_line_and_continues(router: Router) -> None:
    code, out, chat = drive(router, QUESTION + "\x03/why\r\x04")
    assert code == 0
    assert chat.last is None  # the interrupted question was never routed
    assert "Ask a question first" in out


@pytest.mark.parametrize("word", ["/quit", "/exit", "exit", "quit", ":q", "QUIT"])
def test_quit_words_end_the_chat(router: Router, word: str) -> None:
    # Anything after the quit word must go unanswered.
    code, out, _ = drive(router, f"{word}\r{QUESTION}\r\x04")
    assert (code, out) == (0, "")


def test_quit_inside_a_question_is_a_question(router: Router) -> None:
    _, out, chat = drive(router, "quit smoking tips\r\x04")
    assert chat.last is not None and chat.last.text == "quit smoking tips"
    assert "does not appear to be one for the EU AI Office" in out


# -- commands ----------------------------------------------------------------------------


def test_help_lists_every_registered_command(router: Router) -> None:
    _, out, _ = drive(router, "/help\r\x04")
    for command in COMMANDS.commands.values():
        assert f"  {command.name}" in out
        assert command.help in out
    assert "(also: /exit, exit, quit, :q)" in out


def test_units_lists_every_mandate(router: Router) -> None:
    _, out, _ = drive(router, "/units\r\x04")
    for unit in router.units:
        assert unit.name in out
        assert mandate_start(router, unit.id) in out


@pytest.mark.parametrize(
    ("name", "unit_id"),
    [("ai_safety", "ai_safety"), ("safty", "ai_safety"), ("robotics", "excellence_ai_robotics")],
)
def test_unit_shows_full_mandate_forgiving_typos(router: Router, name: str, unit_id: str) -> None:
    _, out, _ = drive(router, f"/unit {name}\r\x04")
    unit = router.pack_.unit(unit_id)
    assert out.startswith(unit.name + "  [" + unit_id + "]")
    assert "\u201d" in out  # the quote is there to its closing mark
    assert "Commission establishes AI Office" in out.replace("\n   ", "")


def test_unit_without_name_or_unknown(router: Router) -> None:
    _, out, _ = drive(router, "/unit\r/unit xylophone\r\x04")
    assert "Usage: /unit NAME" in out
    assert "No unit matches 'xylophone'" in out


def test_why_shows_evidence_of_last_answer(router: Router) -> None:
    _, out, _ = drive(router, QUESTION + "\r/why\r\x04")
    why = out.split("Question: ", 1)[1]
    assert why.startswith(QUESTION)
    assert "Matched terms: 'fines' -> regulation_compliance" in why
    weighing = next(line for line in why.splitlines() if line.startswith("Weighing words: "))
    assert "gpai" in weighing and "fines" in weighing
    assert "Top units: regulation_compliance 1.00" in why


def test_unknown_command_suggests_closest(router: Router) -> None:
    _, out, _ = drive(router, "/hlep\r/unitz safety\r\x04")
    assert "Unknown command /hlep. Did you mean /help?" in out
    assert "Unknown command /unitz. Did you mean /unit?" in out


def test_no_control_characters_echoed(router: Router) -> None:
    chat = Chat(router.pack_, RouterLoader.ready(router))
    replies = [
        chat.handle("/x\x1b[2J\x07"),
        chat.handle("/unit \x1b]0;pwned\x07zzz"),
        chat.handle("who fines \x1b[31mGPAI\u202e providers?"),
        chat.handle("/why"),
    ]
    for reply in replies:
        assert reply.text
        assert not any(ord(ch) < 32 and ch != "\n" for ch in reply.text), reply.text
        assert "\u202e" not in reply.text and "\x9b" not in reply.text


# -- asking back ---------------------------------------------------------------------------


def test_clarify_shows_both_candidates_with_mandates(clarifying: Router) -> None:
    decision = clarifying.route(AMBIGUOUS)
    assert decision.decision == "clarify"
    first, second = decision.candidates
    code, out, chat = drive(clarifying, AMBIGUOUS + "\r\x04")
    assert code == 0
    assert f"  1. {first.name}" in out and f"  2. {second.name}" in out
    assert out.index(first.name) < out.index(mandate_start(clarifying, first.id))
    assert mandate_start(clarifying, second.id) in out
    assert "Answer 1 or 2" in out
    assert chat.pending is not None


@pytest.mark.parametrize("reply", ["1", "2", "2.", "#1", "{short}", "{typo}"])
def test_clarify_pick_answers_for_the_chosen_unit(clarifying: Router, reply: str) -> None:
    first, second = clarifying.route(AMBIGUOUS).candidates
    by_name = {
        "excellence_ai_robotics": ("robotics", "excelence"),
        "ai_safety": ("safety", "safty"),
    }
    if reply.startswith("{"):
        short, typo = by_name[second.id]
        reply, want = (short if reply == "{short}" else typo), second
    else:
        want = (first, second)[int(reply.strip("#.")) - 1]
    code, out, chat = drive(clarifying, f"{AMBIGUOUS}\r{reply}\r/why\r\x04")
    assert code == 0
    answer = out.split("Answer 1 or 2, or name the unit, or rephrase your question.\n", 1)[1]
    lead = f"This is for the {want.name} of the EU AI Office.\n\u2192 {want.name}\n"
    assert answer.startswith(lead)
    assert mandate_start(clarifying, want.id) in answer
    assert f"You then picked: {want.name}" in answer
    assert chat.pending is None and chat.picked == want


def test_clarify_rephrased_question_is_routed_anew(clarifying: Router) -> None:
    _, out, chat = drive(
        clarifying, f"{AMBIGUOUS}\rwho evaluates systemic risks of GPAI models?\r\x04"
    )
    after = out.split("rephrase your question.\n", 1)[1]
    lead, routed = after.split("\n\u2192 ", 1)
    assert "AI Safety" in " ".join(lead.split())
    assert routed.startswith("AI Safety Unit (")
    assert chat.pending is None and chat.picked is None


def test_clarify_out_of_range_number_asks_again(clarifying: Router) -> None:
    _, out, chat = drive(clarifying, f"{AMBIGUOUS}\r3\r/units\r1\r\x04")
    assert out.count("Answer 1 or 2, or name the unit, or rephrase your question.") == 2
    # commands in between keep the question open; "1" then picks
    assert chat.picked == clarifying.route(AMBIGUOUS).candidates[0]


def test_number_without_pending_question_is_a_question(router: Router) -> None:
    _, _, chat = drive(router, "1\r\x04")
    assert chat.last is not None and chat.last.text == "1" and chat.picked is None


# -- completion, history, suggestions --------------------------------------------------------


def completions(router: Router, text: str) -> list[str]:
    completer = ChatCompleter(COMMANDS, router.pack_)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_completion_of_commands_and_unit_names(router: Router) -> None:
    assert completions(router, "/un") == ["/units", "/unit"]
    assert completions(router, "/unit saf") == ["AI Safety Unit", "ai_safety"]
    assert completions(router, "who fines") == []  # questions are not completed
    assert completions(router, "/why x") == []


def type_and_wait(
    router: Router, steps: list[tuple[str, Callable[[Buffer], bool]]], history: History
) -> tuple[str, Chat]:
    """Run the real loop, sending each step's keys once the previous step's condition holds.

    Completion and suggestions are computed by tasks of the event loop, as they are while a
    person types; keys sent all at once would race them, so each step waits (bounded).
    """
    chat = Chat(router.pack_, RouterLoader.ready(router), width=100, language="en")
    out = io.StringIO()
    with create_pipe_input() as pipe:
        session = make_session(chat, history, input=pipe, output=DummyOutput())

        def typist() -> None:
            for keys, ready in steps:
                pipe.send_text(keys)
                deadline = time.monotonic() + 10
                while not ready(session.default_buffer) and time.monotonic() < deadline:
                    time.sleep(0.01)

        thread = threading.Thread(target=typist)
        thread.start()
        code = run_repl(chat, session, out=out, greet=False)
        thread.join()
    assert code == 0
    return out.getvalue(), chat


def test_tab_completes_in_the_real_loop(router: Router) -> None:
    out, _ = type_and_wait(
        router,
        [
            ("/hel", lambda b: b.complete_state is not None),
            ("\t", lambda b: b.text == "/help"),
            ("\r\x04", lambda b: True),
        ],
        InMemoryHistory(),
    )
    assert out.startswith("Type a question to find the unit")


def test_history_file_and_auto_suggest(router: Router, tmp_path: Path) -> None:
    path = tmp_path / "state" / "history"
    drive(router, QUESTION + "\r\x04", history=make_history(path, pytest.fail))
    assert QUESTION in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o077 == 0  # questions can be private
    # A new session suggests the rest from history; Right arrow accepts the suggestion.
    out, chat = type_and_wait(
        router,
        [
            ("who f", lambda b: b.suggestion is not None),
            ("\x1b[C", lambda b: b.text == QUESTION),
            ("\r\x04", lambda b: True),
        ],
        FileHistory(str(path)),
    )
    assert chat.last is not None and chat.last.text == QUESTION
    assert "\u2192 Regulation and Compliance Unit" in out


def test_history_path_from_env_and_xdg(tmp_path: Path) -> None:
    assert history_path({"AI_OFFICE_HISTORY": str(tmp_path / "h")}) == tmp_path / "h"
    assert history_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "ai-office" / "history"
    assert history_path({}).parts[-4:] == (".local", "state", "ai-office", "history")


def test_unwritable_history_falls_back_with_one_warning(router: Router, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    warnings: list[str] = []
    history = make_history(blocker / "history", warnings.append)
    assert isinstance(history, InMemoryHistory)
    assert len(warnings) == 1 and str(blocker / "history") in warnings[0]
    code, out, _ = drive(router, QUESTION + "\r\x04", history=history)
    assert code == 0 and "Regulation and Compliance Unit" in out
    assert len(warnings) == 1


# -- background loading ----------------------------------------------------------------------


def test_loader_fits_in_background_and_reraises() -> None:
    calls: list[int] = []

    def fit() -> Router:
        calls.append(1)
        raise InputError("broken pack")

    loader = RouterLoader(fit)
    loader.start()
    loader.start()
    with pytest.raises(InputError, match="broken pack"):
        loader.get()
    assert calls == [1] and not loader.is_ready


# -- line mode -------------------------------------------------------------------------------


class _Rejecting:
    """A router stand-in that rejects one question, to exercise the error path."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def route(self, text: str) -> object:
        if text == "bad":
            raise InputError("the question is empty")
        return self.router.route(text)


def iter_lines(text: str) -> Iterator[str]:
    yield from text.splitlines()


def test_line_mode_reports_bad_lines_and_keeps_going(router: Router) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_lines(
        _Rejecting(router),
        iter_lines(f"bad\n\n{QUESTION}\n"),
        out=out,
        err=err,  # type: ignore[arg-type]
    )
    assert code == 1
    assert err.getvalue() == "line 1: the question is empty\n"
    assert out.getvalue().startswith(f"> {QUESTION}\n")
    assert "\n\u2192 Regulation and Compliance Unit (" in out.getvalue()


def test_no_home_directory_still_starts_the_chat_with_one_warning(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container uid without a passwd entry and no HOME: Path.expanduser raised
    # "Could not determine home directory" and the chat never started.
    import pwd

    def no_entry(uid: int) -> object:
        raise KeyError(uid)

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    path = history_path({})
    warnings: list[str] = []
    history = make_history(path, warnings.append)
    assert path is None and isinstance(history, InMemoryHistory)
    assert len(warnings) == 1 and "no home directory" in warnings[0]
    code, out, _ = drive(router, QUESTION + "\r\x04", history=history)
    assert code == 0 and "Regulation and Compliance Unit" in out


def test_history_file_that_fails_mid_session_warns_once_and_keeps_going(
    router: Router, tmp_path: Path
) -> None:
    path = tmp_path / "history"
    warnings: list[str] = []
    history = make_history(path, warnings.append)
    assert warnings == []
    path.unlink()
    path.mkdir()  # the file is gone and a folder stands in its way: every write fails
    second = "who tests the safety of general-purpose AI models?"
    code, out, _ = drive(router, QUESTION + "\r" + second + "\r\x04", history=history)
    assert code == 0 and out.count("\u2192 ") == 2  # both answered
    assert len(warnings) == 1 and "cannot use the history file" in warnings[0]
    assert list(history.get_strings()) == [QUESTION, second]  # kept in memory


def test_history_file_that_is_a_fifo_does_not_hang_the_start(tmp_path: Path) -> None:
    fifo = tmp_path / "history"
    os.mkfifo(fifo)
    warnings: list[str] = []
    assert isinstance(make_history(fifo, warnings.append), InMemoryHistory)
    assert len(warnings) == 1 and "cannot write the history file" in warnings[0]
