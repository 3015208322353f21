"""The interactive chat: a prompt-toolkit REPL over the Router, and a line mode for pipes.

A thin layer: the :class:`~router.routing.Router` decides, :mod:`router.render` formats,
and this module only keeps the conversation's state (the last answer, a pending question
back) and talks to the terminal. Everything that writes takes its streams as arguments so
tests can drive the real loop with ``create_pipe_input()`` and ``DummyOutput()``.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from prompt_toolkit.utils import is_dumb_terminal
from rapidfuzz import fuzz, process

from .catalogue import message
from .errors import InputError, RouterError, UnknownUnitError
from .language import language_from_locale
from .text import clean_for_display, clean_for_terminal, json_for_terminal
from .wrap import fit, line_width, wrap

if TYPE_CHECKING:
    from .conversation import Conversation
    from .law import Provision
    from .pack import Pack, Unit
    from .results import Decision
    from .routing import Router

__all__ = [
    "COMMANDS",
    "Chat",
    "CommandRegistry",
    "RouterLoader",
    "greeting",
    "history_path",
    "make_history",
    "run_lines",
    "run_repl",
    "start_chat",
]

PROMPT = "ai-office> "
HISTORY_ENV = "AI_OFFICE_HISTORY"

#: A reply to a clarify question is tried as a unit name only when it is this short;
#: longer replies are rephrased questions, and fuzzy-matching them against unit names
#: would pick a unit from one shared word.
_MAX_PICK_WORDS = 5
#: The looser unit-name match (best matching part of a label) needs this much typed, and
#: this score: "safty" -> "AI safety" scores 80, "inovation" -> "innovation unit" 89.
_MIN_LOOSE_CHARS = 4
_LOOSE_CUTOFF = 78


# -- loading the router without delaying the first prompt -----------------------------------


class RouterLoader:
    """Fits the router in a background thread so the prompt appears before fitting ends.

    Fitting takes a second or more; the person is still reading the greeting and typing,
    so the first answer rarely waits. :meth:`get` blocks until the router is ready and
    re-raises anything the fit raised.
    """

    def __init__(self, load: Callable[[], Router]) -> None:
        self._load = load
        self._router: Router | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def ready(cls, router: Router) -> RouterLoader:
        """A loader around an already fitted router (tests, embedding)."""
        loader = cls(lambda: router)
        loader._router = router
        return loader

    @classmethod
    def for_pack(
        cls, pack: Pack, *, encode_all: bool = False, gate: float | None = None
    ) -> RouterLoader:
        """A loader that fits a router on ``pack`` when started (``encode_all`` and
        ``gate``: see :class:`router.routing.Router`)."""

        def fit() -> Router:
            from .language import warm_up
            from .routing import Router  # the heavy imports stay off the path to the prompt

            warm_up(background=True)  # the language identifier, beside the fit
            return Router.load(pack, encode_all=encode_all, gate=gate)

        return cls(fit)

    def start(self) -> None:
        """Start fitting in the background (idempotent)."""
        with self._lock:
            if self._thread is not None or self._router is not None:
                return
            # Daemon: Ctrl-D while fitting must not leave the process waiting for the fit.
            self._thread = threading.Thread(target=self._run, name="router-fit", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._router = self._load()
        except BaseException as exc:  # handed to the caller of get()
            self._error = exc

    @property
    def is_ready(self) -> bool:
        return self._router is not None

    def get(self) -> Router:
        """The fitted router, waiting for the background fit if needed."""
        if self._router is None:
            self.start()
            assert self._thread is not None
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._router is not None
        return self._router


# -- meta-commands ------------------------------------------------------------------------


Handler = Callable[["Chat", str], "Reply"]


@dataclass(frozen=True)
class Reply:
    """What the chat says back to one input line, and whether to stop afterwards."""

    text: str = ""
    quit: bool = False


@dataclass(frozen=True)
class Command:
    """A meta-command: ``/name ARG``, its one-line help and its handler."""

    name: str
    help: str
    handler: Handler
    arg: str = ""
    aliases: tuple[str, ...] = ()


@dataclass
class CommandRegistry:
    """The meta-commands, in registration order; ``/help`` is generated from here.

    Modelled on litecli's ``special_command`` decorator: one place declares a command,
    its help and its aliases, so help and completion cannot drift from what works.
    """

    commands: dict[str, Command] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)

    def command(
        self, name: str, *, help: str, arg: str = "", aliases: tuple[str, ...] = ()
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of ``/name``."""

        def register(handler: Handler) -> Handler:
            self.commands[name] = Command(name, help, handler, arg, aliases)
            for alias in aliases:
                self._aliases[alias.casefold()] = name
            return handler

        return register

    def find(self, line: str) -> tuple[Command, str] | None:
        """The command a line invokes and its argument, or None if it is not a command.

        Lines starting with ``/`` are commands (known or not: see :meth:`closest`); bare
        aliases such as ``exit`` count only as the whole line.
        """
        word, _, arg = line.strip().partition(" ")
        key = word.casefold()
        name = key if key in self.commands else self._aliases.get(key)
        if name is None:
            return None
        if not word.startswith("/") and arg.strip():
            return None  # "quit smoking?" is a question, not the quit command
        return self.commands[name], arg.strip()

    def closest(self, word: str) -> str | None:
        """The known command closest to a mistyped one (``/hlep`` -> ``/help``)."""
        hit = process.extractOne(
            word.casefold(), list(self.commands), scorer=fuzz.ratio, score_cutoff=50
        )
        return None if hit is None else hit[0]

    def completions(self) -> list[str]:
        """Every command name, for Tab completion."""
        return list(self.commands)

    def help_text(self, language: str = "en", *, width: int | None = None) -> str:
        """The generated ``/help``: one line per command, aliases after it.

        A command's help in another ``language`` comes from the catalogue
        (``command./name``), when it has one. Wrapped to ``width`` (None: the terminal's);
        a command's help continues under its own start, not under the command's name.
        """
        w = line_width(width)
        column = max(len(f"{c.name} {c.arg}".strip()) for c in self.commands.values())
        lines = wrap(message("chat.help_intro", language), w)
        for c in self.commands.values():
            usage = f"  {f'{c.name} {c.arg}'.strip():<{column}}  "
            aliases = ", ".join(c.aliases)
            also = " " + message("chat.help_also", language, aliases=aliases) if aliases else ""
            help_ = f"{_command_help(c, language)}{also}"
            lines += wrap(help_, w, indent=usage, hang=" " * len(usage))
        keys = message("chat.help_keys", language)
        label, sep, rest = keys.partition(": ")
        indent = label + sep
        lines += wrap(rest, w, indent=indent, hang=" " * len(indent))
        return "\n".join(lines)


def _command_help(command: Command, language: str) -> str:
    if language == "en":
        return command.help
    try:
        return message(f"command.{command.name}", language)
    except KeyError:  # a command registered outside the catalogue keeps its own help
        return command.help


COMMANDS = CommandRegistry()


@COMMANDS.command("/help", help="show this help", aliases=("/?", "help"))
def _help(chat: Chat, arg: str) -> Reply:
    return Reply(chat.commands.help_text(chat.language, width=chat.width))


@COMMANDS.command("/units", help="list the units with their quoted mandates")
def _units(chat: Chat, arg: str) -> Reply:
    from .render import render_unit

    units = chat.pack.units
    return Reply(
        "\n\n".join(
            render_unit(u, color=chat.color, width=chat.width, language=chat.language)
            for u in units
        )
    )


@COMMANDS.command("/unit", arg="NAME", help="one unit's full mandate and citation (forgives typos)")
def _unit(chat: Chat, arg: str) -> Reply:
    from .render import render_unit

    if not arg:
        return chat.say(message("chat.unit_usage", chat.language))
    unit = chat.find_unit(arg)
    if unit is None:
        names = ", ".join(u.name for u in chat.pack.units)
        query = repr(clean_for_display(arg))
        return chat.say(message("chat.no_unit", chat.language, query=query, names=names))
    return Reply(render_unit(unit, color=chat.color, width=chat.width, language=chat.language))


@COMMANDS.command("/why", help="the evidence behind the last answer")
def _why(chat: Chat, arg: str) -> Reply:
    from .render import render_evidence

    if chat.last is None:
        return chat.say(message("chat.why_first", chat.language))
    text = render_evidence(chat.last, width=chat.width)
    if chat.picked is not None:
        picked = message("chat.picked", chat.language, unit=chat.picked.name)
        label, sep, name = picked.partition(": ")
        label += sep
        rows = wrap(name, line_width(chat.width), indent=label, hang=" " * len(label), keep=[name])
        text += "\n" + "\n".join(rows)
    return Reply(text)


@COMMANDS.command(
    "/law",
    help="the AI Act provisions of the last answer in full; /law REF quotes one (Article 26)",
)
def _law(chat: Chat, arg: str) -> Reply:
    from .errors import UnknownReferenceError
    from .render import render_provisions

    if arg.strip():
        try:
            found = chat.router.law(arg.strip())
        except UnknownReferenceError as exc:
            return chat.say(str(exc))
        provisions: tuple[Provision, ...] = (found,)
    elif chat.last is None:
        return chat.say(message("chat.law_first", chat.language))
    elif not chat.last.provisions:
        return chat.say(message("chat.law_none", chat.language))
    else:
        provisions = chat.last.provisions
    text = render_provisions(
        provisions, color=chat.color, width=chat.width, full=True, language=chat.language
    )
    return Reply(text.lstrip("\n"))


@COMMANDS.command("/quit", help="leave the chat", aliases=("/exit", "exit", "quit", ":q"))
def _quit(chat: Chat, arg: str) -> Reply:
    return Reply(quit=True)


# -- the conversation ---------------------------------------------------------------------


class Chat:
    """The conversation's state and its answer to each line; no terminal I/O here.

    Parameters:
        pack: the loaded pack (unit names for the greeting, /units and completion are
            available before the router has finished fitting).
        loader: gives the fitted router.
        color: style answers with ANSI colours.
        width: wrap width; None follows the terminal.
        commands: the meta-command registry.
        language: the chat's wording before the first question (then each answer's
            language); None reads it from the locale (``LANG`` and the like), else English.
    """

    def __init__(
        self,
        pack: Pack,
        loader: RouterLoader,
        *,
        color: bool = False,
        width: int | None = None,
        commands: CommandRegistry = COMMANDS,
        language: str | None = None,
    ) -> None:
        self.pack = pack
        self._language = language_from_locale() if language is None else language
        self.loader = loader
        self.color = color
        self.width = width
        self.commands = commands
        #: The last question's decision, for /why.
        self.last: Decision | None = None
        #: The unit the person picked after a clarify question, if they did.
        self.picked: Unit | None = None
        #: A clarify decision waiting for the person's pick.
        self.pending: Decision | None = None
        self._conversation: Conversation | None = None

    @property
    def router(self) -> Router:
        return self.loader.get()

    @property
    def language(self) -> str:
        """The language the chat speaks in: the last question's, else the starting one."""
        return self._language if self.last is None else self.last.language

    @property
    def conversation(self) -> Conversation:
        """The turns so far: a short follow-up is read in the previous question's context."""
        if self._conversation is None:
            from .conversation import Conversation

            self._conversation = Conversation(self.router)
        return self._conversation

    @property
    def unit_names(self) -> tuple[str, ...]:
        """The units' names: kept whole on one line where they fit."""
        return tuple(u.name for u in self.pack.units)

    def say(self, text: str) -> Reply:
        """A plain message (a hint, a warning, an error) wrapped to the chat's width."""
        return Reply(fit(text, line_width(self.width), keep=self.unit_names))

    def handle(self, line: str) -> Reply:
        """Answer one input line: a command, a pick after a question back, or a question."""
        line = line.strip()
        if not line:
            return Reply()
        found = self.commands.find(line)
        if found is not None:
            command, arg = found
            return command.handler(self, arg)
        if line.startswith("/"):
            return self._unknown_command(line)
        if self.pending is not None:
            if _choice_number(line) is not None and self._pick(line, self.pending) is None:
                return self.say(message("clarify_closing", self.language))
            unit = self._pick(line, self.pending)
            if unit is not None:
                return self._answer_pick(unit)
        return self.ask(line)

    def ask(self, question: str) -> Reply:
        """Route a question and render the answer; a clarify answer waits for a pick."""
        from .render import render_decision

        try:
            decision = self.conversation.ask(question)
        except RouterError as exc:
            return self.say(str(exc))
        self.last, self.picked = decision, None
        self.pending = decision if decision.decision == "clarify" else None
        return Reply(render_decision(decision, color=self.color, width=self.width))

    def _unknown_command(self, line: str) -> Reply:
        word = clean_for_display(line.split()[0])
        guess = self.commands.closest(word)
        hint = message("chat.did_you_mean", self.language, guess=guess) if guess else ""
        return self.say(message("chat.unknown_command", self.language, word=word, hint=hint))

    def _pick(self, line: str, pending: Decision) -> Unit | None:
        """The candidate a reply to a clarify question picks, or None for a new question."""
        candidates = pending.candidates
        number = _choice_number(line)
        if number is not None:
            return candidates[number - 1] if 1 <= number <= len(candidates) else None
        if len(line.split()) > _MAX_PICK_WORDS:
            return None
        unit = self.find_unit(line, among=candidates)
        # A short reply naming some other unit is more likely a new question about it.
        return unit if unit in candidates else None

    def find_unit(self, query: str, *, among: tuple[Unit, ...] | None = None) -> Unit | None:
        """The unit ``query`` names: :meth:`Router.unit`, then a looser second chance.

        ``Router.unit`` scores whole labels, so a typo in one word of a short query
        ("safty") falls under its cutoff; here each label is also scored by its best
        matching part, for queries long enough that a part match means something.
        """
        try:
            return self.router.unit(query)
        except UnknownUnitError:
            pass
        if len(query.strip()) < _MIN_LOOSE_CHARS:
            return None
        from .routing import match_unit

        units = among if among is not None else self.pack.units
        return match_unit(query, units, scorer=fuzz.partial_ratio, score_cutoff=_LOOSE_CUTOFF)

    def needs_router(self, line: str) -> bool:
        """Whether answering ``line`` needs the fitted router (so may wait for the fit)."""
        found = self.commands.find(line)
        return found is None or found[0].name in {"/unit"}

    def _answer_pick(self, unit: Unit) -> Reply:
        from .render import render_pick

        language = self.language
        self.pending, self.picked = None, unit
        # Follow-ups after the pick continue with the unit the person chose.
        self.conversation.settle(unit)
        lead = self.router.answers_.routed(unit, language=language).lead
        return Reply(
            render_pick(unit, lead, color=self.color, width=self.width, language=language)
        )


def _choice_number(line: str) -> int | None:
    """The number in a reply such as ``2``, ``2.`` or ``#2``; None if it is not one."""
    choice = line.strip().rstrip(".)").lstrip("#")
    return int(choice) if choice.isdigit() and len(choice) < 4 else None


def greeting(pack: Pack, language: str = "en", *, width: int | None = None) -> str:
    """What the chat knows about and how to get help, in ``language``, wrapped to ``width``
    (None: the terminal's) without splitting a unit's name where it fits on a line."""
    units = [u.name for u in pack.units if u.id != pack.office_unit]
    text = message(
        "chat.greeting", language, pack=pack.name, count=len(units), units="; ".join(units)
    )
    return "\n".join(wrap(text, line_width(width), keep=(*units, pack.name)))


# -- history ------------------------------------------------------------------------------


def history_path(environ: dict[str, str] | None = None) -> Path | None:
    """``$AI_OFFICE_HISTORY``, else ``$XDG_STATE_HOME/ai-office/history`` (XDG default);
    None when neither is set and there is no home directory to put it under."""
    env = os.environ if environ is None else environ
    if env.get(HISTORY_ENV):
        return Path(env[HISTORY_ENV]).expanduser()
    state = env.get("XDG_STATE_HOME")
    if not state:
        home = _home(env)
        if home is None:
            return None
        state = str(home / ".local" / "state")
    return Path(state) / "ai-office" / "history"


def _home(env: Mapping[str, str]) -> Path | None:
    """$HOME, else the account's home directory, as ``Path.expanduser`` finds it; None when
    the account has none (a service user, a container uid without a passwd entry)."""
    if env.get("HOME"):
        return Path(env["HOME"])
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, OSError):
        return None


def make_history(path: Path | None, warn: Callable[[str], None]) -> History:
    """A FileHistory at ``path``, or in-memory history (one warning) if it cannot be written
    or there is no ``path``; a file that fails later also warns once and is then left alone."""
    fallback = f"history is kept for this session only. Set {HISTORY_ENV} to a file to keep it."
    if path is None:
        warn(f"warning: there is no home directory for the history file; {fallback}")
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Questions can be private: create the file readable by its owner only. Not
        # blocking: a FIFO would otherwise hold the chat before its first prompt.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a device reads forever
                raise OSError(errno.EINVAL, "not a regular file")
        finally:
            os.close(fd)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        warn(
            f"warning: cannot write the history file {clean_for_display(str(path))} "
            f"({reason}); history is kept for this session only. Set {HISTORY_ENV} to "
            "another path."
        )
        return InMemoryHistory()
    return _KeptFileHistory(path, warn)


class _KeptFileHistory(FileHistory):
    """A FileHistory that survives its file: if reading or writing it fails mid-session
    (deleted folder, full disk, lost permission), one warning, and the session goes on with
    the history it has in memory instead of a traceback on every line."""

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:
        super().__init__(str(path))
        self._warn = warn
        self._failed = False

    def _fail(self, exc: OSError) -> None:
        if not self._failed:
            self._failed = True
            reason = exc.strerror or type(exc).__name__
            self._warn(
                f"warning: cannot use the history file {clean_for_display(str(self.filename))} "
                f"({reason}); history is kept for this session only."
            )

    def load_history_strings(self) -> Iterable[str]:
        try:
            return list(super().load_history_strings())
        except OSError as exc:
            self._fail(exc)
            return []

    def store_string(self, string: str) -> None:
        if self._failed:
            return
        try:
            super().store_string(string)
        except OSError as exc:
            self._fail(exc)


# -- the interactive loop -----------------------------------------------------------------


class ChatCompleter(Completer):
    """Completes ``/commands`` and, after ``/unit``, unit names; never plain questions.

    It only scans a dozen strings, so it runs in the event loop rather than a thread.
    """

    def __init__(self, commands: CommandRegistry, pack: Pack) -> None:
        self.commands = commands
        self.unit_names = [u.name for u in pack.units] + [u.id for u in pack.units]

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/"):
            return  # completing words of a question would only get in the way
        if " " not in text:
            for name in self.commands.completions():
                if name.startswith(text.casefold()):
                    yield Completion(name, start_position=-len(text))
            return
        word, _, arg = text.partition(" ")
        if word.casefold() != "/unit":
            return
        needle = arg.lstrip().casefold()
        for name in self.unit_names:
            if needle in name.casefold():
                yield Completion(name, start_position=-len(arg.lstrip()))


def make_session(
    chat: Chat,
    history: History,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> PromptSession[str]:
    """The prompt-toolkit session: history, suggestions and completion."""
    return PromptSession(
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        completer=ChatCompleter(chat.commands, chat.pack),
        complete_while_typing=True,
        input=input,
        output=output,
    )


def _start_loading_after_first_render(loader: RouterLoader, session: PromptSession[str]) -> None:
    """Start fitting once the first prompt is on screen, so it cannot delay that prompt.

    Fitting holds the GIL much of the time; started earlier it would slow the drawing of
    the prompt. Dumb terminals get a separate, simpler application from prompt-toolkit
    that never fires this event, so there the fit starts at once.
    """
    if is_dumb_terminal():
        loader.start()
        return
    session.app.after_render += lambda _app: loader.start()


def run_repl(
    chat: Chat,
    session: PromptSession[str],
    *,
    out: TextIO,
    greet: bool = True,
) -> int:
    """Read lines from ``session`` until /quit or Ctrl-D; returns the exit code (0)."""
    if greet:
        print(greeting(chat.pack, chat.language, width=chat.width), file=out, flush=True)
    _start_loading_after_first_render(chat.loader, session)
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # Ctrl-C discards the line being typed, as in a shell
        except EOFError:
            return 0  # Ctrl-D on an empty line: leave without a word
        if not chat.loader.is_ready and chat.needs_router(line):
            note = chat.say(message("chat.loading", chat.language))
            print(note.text, file=out, flush=True)
        try:
            reply = chat.handle(line)
        except KeyboardInterrupt:
            print(chat.say(message("chat.interrupted", chat.language)).text, file=out, flush=True)
            continue
        if reply.text:
            print(clean_for_terminal(reply.text, styled=chat.color), file=out, flush=True)
        if reply.quit:
            return 0


# -- the line mode for pipes --------------------------------------------------------------


def read_lines(stream: TextIO) -> Iterator[str]:
    """Lines of a text or binary stream, decoding UTF-8 forgivingly (bad bytes become U+FFFD)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        for line in stream:
            yield line.rstrip("\r\n")
        return
    for raw in buffer:
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def run_lines(
    router: Router,
    lines: Iterable[str],
    *,
    out: TextIO,
    err: TextIO,
    as_json: bool = False,
    color: bool = False,
) -> int:
    """Answer one question per line (no prompt, no commands); returns the exit code.

    Blank lines are skipped. A line the router rejects is reported on ``err`` with its
    line number (in JSON mode as an object with ``line`` and ``error``, so the output stays
    one object per answered line) and makes the exit code 1; the rest are still answered.
    The lines are one conversation: a short follow-up is read in its context.
    """
    from .conversation import Conversation
    from .render import render_decision

    talk = Conversation(router)
    status = 0
    first = True
    for number, line in enumerate(lines, start=1):
        if not clean_for_display(line):
            continue
        try:
            decision = talk.ask(line)
        except RouterError as exc:
            status = 1
            if as_json:
                print(json_for_terminal({"line": number, "error": str(exc)}), file=out, flush=True)
            else:
                print(f"line {number}: {clean_for_terminal(str(exc))}", file=err, flush=True)
            continue
        if as_json:
            print(json_for_terminal(decision.to_dict()), file=out, flush=True)
            continue
        if not first:
            print(file=out)
        first = False
        print("\n".join(wrap(decision.text, line_width(), indent="> ", hang="  ")), file=out)
        print(render_decision(decision, color=color), file=out, flush=True)
    return status


def start_chat(
    pack: Pack,
    *,
    quiet: bool = False,
    as_json: bool = False,
    color: bool = False,
    encode_all: bool = False,
    gate: float | None = None,
) -> int:
    """Run ``ai-office chat`` on the process's streams; returns the exit code.

    prompt-toolkit starts only when a person is at both ends; otherwise (or with
    ``as_json``) each input line is one question.
    """
    if sys.stdin is None:
        # Started with file descriptor 0 closed (`<&-`): Python sets sys.stdin to None.
        raise InputError("cannot read stdin: it is closed; run the chat with input to read")
    loader = RouterLoader.for_pack(pack, encode_all=encode_all, gate=gate)
    if as_json or not (sys.stdin.isatty() and sys.stdout.isatty()):
        lines = read_lines(sys.stdin)
        return run_lines(
            loader.get(), lines, out=sys.stdout, err=sys.stderr, as_json=as_json, color=color
        )
    history = make_history(
        history_path(), lambda message: print(fit(message, line_width()), file=sys.stderr)
    )
    chat = Chat(pack, loader, color=color)
    return run_repl(chat, make_session(chat, history), out=sys.stdout, greet=not quiet)
