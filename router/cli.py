"""The ``ai-office`` command: a thin layer over the library."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import RouterError
from .text import clean_for_display, clean_for_terminal, json_for_terminal

if TYPE_CHECKING:
    from .routing import Router

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


#: The encoder names, listed without importing router.encoders' heavy parts (it has none
#: at import: the models load on first use).
ENCODER_CHOICES = ("none", "minilm", "e5-small")


def _remember_encoder(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta["router.encoder"] = value


def _remember_encode_all(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta["router.encode_all"] = value


def _remember_gate(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    ctx.meta["router.gate"] = value


def pack_option(func: F) -> F:
    """The ``--pack PATH``, ``--encoder NAME``, ``--encode-all`` and ``--gate MARGIN``
    options shared by every command that routes (the encoder settings reach
    :func:`load_router` through the click context, so that the commands' signatures need
    not change)."""
    func = click.option(
        "--gate",
        type=click.FloatRange(0, 1),
        default=None,
        metavar="MARGIN",
        expose_value=False,
        callback=_remember_gate,
        help="With an encoder, this gate (0-1) instead of the pack's fitted one: higher "
        "encodes more questions, for better out-of-scope ranking at lower speed.",
    )(func)
    func = click.option(
        "--encode-all",
        is_flag=True,
        expose_value=False,
        callback=_remember_encode_all,
        help="With an encoder, encode every question, also those the words alone decide "
        "(slower; see docs/encoders.md).",
    )(func)
    func = click.option(
        "--encoder",
        type=click.Choice(ENCODER_CHOICES),
        default=None,
        envvar="AI_OFFICE_ENCODER",
        expose_value=False,
        callback=_remember_encoder,
        help="Sentence encoder fused into the model (needs the 'semantic' extra). "
        "Default: the pack's setting, none for the bundled pack.",
    )(func)
    return click.option(
        "--pack",
        type=click.Path(exists=True, file_okay=False, dir_okay=True),
        default=None,
        envvar="AI_OFFICE_PACK",
        help="Knowledge pack folder (corpus/ and intents/). Default: the bundled AI Office pack.",
    )(func)


def chosen_encoder() -> str | None:
    """The ``--encoder`` given to the running command (None: the pack's setting)."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get("router.encoder")


def encode_all() -> bool:
    """Whether ``--encode-all`` was given to the running command."""
    ctx = click.get_current_context(silent=True)
    return False if ctx is None else bool(ctx.meta.get("router.encode_all"))


def chosen_gate() -> float | None:
    """The ``--gate`` given to the running command (None: the pack's fitted gate).

    Raises:
        click.UsageError: ``--encode-all`` was given too.
    """
    ctx = click.get_current_context(silent=True)
    gate = None if ctx is None else ctx.meta.get("router.gate")
    if gate is not None and encode_all():
        raise click.UsageError("--gate and --encode-all contradict each other; give one")
    return gate


def load_router(pack: str | None) -> Router:
    """Load and fit the router, lazily importing the heavy parts."""
    from .routing import Router

    return Router.load(
        pack, encoder=chosen_encoder(), encode_all=encode_all(), gate=chosen_gate()
    )


def handle_errors(func: F) -> F:
    """Turn library errors into ``Error: ...`` on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RouterError as exc:
            raise click.ClickException(clean_for_terminal(str(exc))) from exc

    return wrapper  # type: ignore[return-value]


class CleanGroup(click.Group):
    """A click group whose error messages cannot drive the terminal.

    click's own messages quote what was typed ("Directory '...' does not exist"), and a
    file or folder name can hold escape sequences; every ClickException raised while the
    arguments are parsed or a command runs is cleaned before click shows it.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            _clean(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            _clean(exc)
            raise


def _clean(exc: click.ClickException) -> None:
    exc.message = clean_for_terminal(exc.message)
    if isinstance(exc, click.FileError):
        exc.ui_filename = clean_for_display(exc.ui_filename)  # type: ignore[misc]


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


@click.group(cls=CleanGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="ai-office")
def cli() -> None:
    """Route questions to the EU AI Office unit responsible, quoting its mandate."""


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--why", is_flag=True, help="Also print the evidence behind the decision.")
@click.option(
    "--lang",
    type=click.Choice(["en", "fr", "de", "it", "es"]),
    help="Word the reply in this language. Default: the question's (English for others).",
)
@pack_option
@handle_errors
def ask(
    question: tuple[str, ...], as_json: bool, why: bool, lang: str | None, pack: str | None
) -> None:
    """Answer one QUESTION: the unit responsible and its mandate, quoted with a citation.

    Example: ai-office ask "who handles systemic-risk testing?"
    """
    from .language import warm_up
    from .render import render_decision, render_evidence

    warm_up(background=True)  # loads beside the router's fit, not after it
    router = load_router(pack)
    decision = router.route(" ".join(question))
    if lang is not None and lang != decision.language:
        decision = router.answers_.in_language(decision, lang)
    if as_json:
        click.echo(json_for_terminal(decision.to_dict(evidence=why)))
        return
    click.echo(render_decision(decision, color=use_color()))
    if why:
        click.echo()
        click.echo(render_evidence(decision))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the units as a JSON list.")
@pack_option
@handle_errors
def units(as_json: bool, pack: str | None) -> None:
    """List the units with their mandates and citations."""
    from .pack import load_pack
    from .render import render_unit

    loaded = load_pack(pack)
    if as_json:
        rows = [
            {
                "id": u.id,
                "name": u.name,
                "aliases": list(u.aliases),
                "mandate": u.mandate,
                "citation": str(u.citation) if u.citation else None,
            }
            for u in loaded.units
        ]
        click.echo(json_for_terminal(rows, indent=2))
        return
    click.echo("\n\n".join(render_unit(u, color=use_color()) for u in loaded.units))


@cli.command()
@click.argument("reference", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the provision as a JSON object.")
@pack_option
@handle_errors
def law(reference: tuple[str, ...], as_json: bool, pack: str | None) -> None:
    """Quote an AI Act provision in full: ai-office law "Article 5(1)(h)", law 50,
    law "Annex III, point 4"."""
    from .law import load_provisions
    from .law.lookup import provision_for
    from .pack import load_pack
    from .render import render_provisions

    loaded = load_pack(pack)
    index = load_provisions(loaded.corpus_dir)
    if index is None:
        raise click.ClickException("this pack holds no AI Act text to look provisions up in")
    found = provision_for(index, " ".join(reference))
    if as_json:
        keys = ("reference", "title", "lead_in", "full_text", "url")
        click.echo(json_for_terminal({k: getattr(found, k) for k in keys}))
        return
    click.echo(render_provisions((found,), color=use_color(), full=True).lstrip("\n"))


@cli.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--errors", "show_errors", is_flag=True, help="List the misrouted inquiries.")
@pack_option
@handle_errors
def eval_(file: str, as_json: bool, show_errors: bool, pack: str | None) -> None:
    """Measure the router on FILE of labelled inquiries (YAML, JSONL or CSV).

    Each record has `text` and `unit`; use `out_of_scope` for questions that are not for
    the pack. Prints accuracy, macro-F1, out-of-scope precision and recall, the clarify
    rate and the confusion matrix (rows: truth, columns: prediction).
    """
    from .evaluate import evaluate, read_labelled
    from .render import render_evaluation

    result = evaluate(load_router(pack), read_labelled(file))
    if as_json:
        data = result.to_dict()
        if not show_errors:
            data.pop("errors")
        click.echo(json_for_terminal(data, indent=2))
        return
    click.echo(render_evaluation(result, show_errors=show_errors))


@cli.command()
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option(
    "--check", is_flag=True, help="Only report whether the stored calibration is current."
)
@pack_option
@handle_errors
def calibrate(folds: int, check: bool, pack: str | None) -> None:
    """Fit the decision thresholds on held-out folds and store them with the pack.

    Writes intents/calibration.yaml and the fitted model, intents/model.npz; run it after
    changing the training data (a stale file is detected and refitted on load). With
    --encoder NAME, writes intents/calibration.NAME.yaml and intents/model.NAME.npz, the
    embedding weight fitted on the same folds (the topic and Act models keep none).
    """
    from .law import load_provisions
    from .law.articles import act_pack
    from .pack import load_pack
    from .routing import calibrate_command
    from .training import fit_calibration, write_calibration, write_model

    loaded = load_pack(pack)
    encoder = chosen_encoder() or loaded.encoder
    if encoder != "none":
        _calibrate_encoder(loaded, encoder, folds=folds, check=check)
        return
    # The pack's topics and referrals, and the Act's articles, are routed by packs of their
    # own, stored beside it.
    index = load_provisions(loaded.corpus_dir) if loaded.cites_provisions else None
    act = None if index is None else act_pack(loaded, index)
    packs = [p for p in (loaded, loaded.topic_pack(), act) if p is not None]
    if check:
        for each in packs:
            if not _stored_and_current(each):
                raise click.ClickException(
                    f"the stored calibration or model in {each.intents_dir} is missing or "
                    f"stale; run '{calibrate_command(loaded)}'"
                )
        click.echo("calibration is current")
        return
    for each in packs:
        each.intents_dir.mkdir(exist_ok=True)
        result = fit_calibration(each, folds=folds)
        path = write_calibration(each, result)
        shown = clean_for_display(str(path))
        click.echo(f"wrote {shown}: {result.policy.as_dict()} (held-out utility {result.utility})")
        model = clean_for_display(str(write_model(each)))
        click.echo(f"wrote {model}: the fitted model, loaded without scikit-learn")


def _stored_and_current(pack: Any, encoder: str = "none") -> bool:
    """Whether ``pack`` stores a model and calibration fitted with ``encoder`` on its
    current training data."""
    from .routing import policy_from_calibration, stored_model

    return (
        policy_from_calibration(pack, encoder=encoder) is not None
        and stored_model(pack, encoder=encoder) is not None
    )


def _calibrate_encoder(loaded: Any, encoder: str, *, folds: int, check: bool) -> None:
    """``calibrate --encoder NAME``: the pack's own model and thresholds with the encoder."""
    from .classifier import IntentClassifier
    from .routing import calibrate_command
    from .training import (
        fit_calibration,
        fit_embedding_weight,
        fit_encoder_gate,
        write_calibration,
        write_model,
    )

    if check:
        if not _stored_and_current(loaded, encoder):
            raise click.ClickException(
                f"the stored calibration or model for the encoder {encoder!r} in "
                f"{loaded.intents_dir} is missing or stale; run "
                f"'{calibrate_command(loaded, encoder=encoder)}'"
            )
        if not _stored_and_current(loaded):
            raise click.ClickException(
                f"the stored model or calibration without an encoder in {loaded.intents_dir}, "
                f"which the encoder gate decides with, is missing or stale; run "
                f"'{calibrate_command(loaded, encoder=encoder)}'"
            )
        click.echo(f"calibration with the encoder {encoder} is current")
        return
    loaded.intents_dir.mkdir(exist_ok=True)
    if not _stored_and_current(loaded):
        # The encoder gate decides with the pack's own model without an encoder first.
        words = fit_calibration(loaded, folds=folds)
        path = clean_for_display(str(write_calibration(loaded, words)))
        click.echo(f"wrote {path}: {words.policy.as_dict()} (held-out utility {words.utility})")
        model = clean_for_display(str(write_model(loaded)))
        click.echo(f"wrote {model}: the fitted model without an encoder, for the gate")
    weight, result = fit_embedding_weight(loaded, encoder, folds=folds)
    gate = fit_encoder_gate(loaded, result)
    result = dataclasses.replace(result, gate=gate)
    path = clean_for_display(str(write_calibration(loaded, result, encoder=encoder)))
    click.echo(
        f"wrote {path}: {result.policy.as_dict()} (held-out utility {result.utility}, "
        f"embedding weight {weight}); the encoder is skipped for {gate.skipped:.0%} of "
        f"held-out questions (gate {gate.margin}, held-out utility {round(gate.utility, 4)})"
    )
    classifier = IntentClassifier(encoder=encoder, embedding_weight=weight)
    model = clean_for_display(str(write_model(loaded, classifier=classifier)))
    click.echo(f"wrote {model}: the fitted model with the {encoder} encoder's columns")


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="Do not print the greeting.")
@click.option("--json", "as_json", is_flag=True, help="Line mode, one JSON object per answer.")
@pack_option
@handle_errors
def chat(quiet: bool, as_json: bool, pack: str | None) -> None:
    """Chat: ask questions, get the unit with its mandate quoted; /help lists the commands.

    When stdin is not a terminal (or with --json), each input line is one question and no
    prompt is shown: printf 'q1\\nq2\\n' | ai-office chat. See docs/chat.md.
    """
    from .pack import load_pack
    from .repl import start_chat

    loaded = load_pack(pack)  # fail fast on a bad pack, before any prompt
    if chosen_encoder() is not None:  # the chat's router loads in the background
        loaded = dataclasses.replace(loaded, encoder=chosen_encoder())
    sys.exit(
        start_chat(
            loaded,
            quiet=quiet,
            as_json=as_json,
            color=use_color(),
            encode_all=encode_all(),
            gate=chosen_gate(),
        )
    )


@cli.command(context_settings={"show_default": True})
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option("-o", "--output", help="Output file (.csv, .jsonl, .gz). Default: JSONL on stdout.")
@click.option(
    "-f",
    "--format",
    "input_format",
    type=click.Choice(["csv", "jsonl", "text", "parquet"]),
    help="Input format. Default: from the suffix; stdin is text.",
)
@click.option(
    "--output-format",
    type=click.Choice(["csv", "jsonl"]),
    help="Output format. Default: from the suffix of -o, else jsonl.",
)
@click.option("--text-column", help="CSV column to route. Default: text, question, message, ...")
@click.option("--text-field", default="text", help="JSONL field to route.")
@click.option("--encoding", default="utf-8", help="Input encoding, e.g. latin-1 for old files.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    callback=lambda ctx, param, value: _few_enough_jobs(value),
    help="Worker processes.",
)
@click.option("--alternatives", type=click.IntRange(min=0), default=3, help="Units ranked per row.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    help="dask: route with Dask (pip install 'ai-office-router[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler (tcp://host:8786). Default: a local cluster of --jobs workers.",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@pack_option
@handle_errors
def batch(inputs: tuple[str, ...], output: str | None, engine: str, scheduler: str | None,
          quiet: bool, pack: str | None, **options: Any) -> None:  # fmt: skip
    """Classify every inquiry in INPUT... (CSV, JSONL or text; - is stdin; .gz is read).

    Writes each input row with unit, unit_name, decision, confidence, alternatives,
    provisions, topic, referral and error added, in input order. Rows that cannot be routed
    get decision=error and a reason. A summary goes to stderr; see docs/batch.md.
    """
    import time

    from . import batch as b
    from .errors import InputError
    from .render import render_batch_progress, render_batch_summary

    settings = b.BatchOptions(**options)
    try:  # before the router loads: a wrong output name is a usage error
        settings.for_output(output)
    except InputError as exc:
        raise click.UsageError(str(exc)) from exc
    b.check_output(output)  # a folder, or no folder to write in: say so before the run
    router = load_router(pack)
    paths = [p for p in inputs if p != "-"]
    total = 0 if "-" in inputs else sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
    started, shown = time.perf_counter(), [0.0]

    def progress(rows: int, read: int) -> None:
        now = time.perf_counter()
        if now - shown[0] >= 0.2:
            shown[0] = now
            line = render_batch_progress(rows, now - started, read / total if total else None)
            click.echo(f"\r{line}", nl=False, err=True)

    terminated: list[int] = []
    target = output if output not in (None, "-") else None
    # Progress on a terminal only: logs and pipes stay clean. Not when the rows themselves
    # go to that terminal either (no -o): the progress line would be drawn into them.
    live = sys.stderr.isatty() and not (target is None and _is_terminal(sys.stdout))
    with _batch_signals(terminated):
        try:
            if engine == "dask":
                from .batch.dask import run_dask

                summary = run_dask(
                    list(inputs), output, router, options=settings, scheduler=scheduler
                )
            else:
                summary = b.run_batch(
                    list(inputs),
                    output,
                    router,
                    options=settings,
                    on_progress=progress if live else None,
                )
        except (KeyboardInterrupt, b.WorkerDied) as exc:
            if isinstance(exc, b.WorkerDied) and not terminated:
                raise  # a worker died on its own: an error, not a stop
            # Stopped before the first row (while the workers start), or SIGTERM sent to
            # the process group, which kills the workers too: still a stop.
            stopped = exc if isinstance(exc, b.BatchInterrupted) else b.BatchInterrupted(0, target)
            shown = clean_for_terminal(str(stopped))
            click.echo(("\n" if live else "") + f"Stopped: {shown}", err=True)
            sys.exit(143 if terminated else 130)
        except BrokenPipeError:
            # The reader of stdout went away (`... | head`): the workers are stopped; end
            # quietly, and keep Python's last flush from reporting the closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
    if live:
        click.echo("\r\033[K", nl=False, err=True)
    if not quiet:
        names = {u.id: u.name for u in router.units}
        click.echo(clean_for_terminal(render_batch_summary(summary, names=names)), err=True)


def _few_enough_jobs(jobs: int) -> int:
    """``--jobs``, refused past 4 per core: each job is a process holding a router, and
    ``--jobs 10000`` started thousands of them, slower than a few and deaf to SIGTERM while
    they started."""
    cores = os.cpu_count() or 1
    if jobs > 4 * cores:
        raise click.BadParameter(
            f"{jobs} is more than 4 per CPU core ({cores} here); routing is CPU-bound, "
            f"so use about {cores} and at most {4 * cores}"
        )
    return jobs


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it stops a batch the same way."""


@contextlib.contextmanager
def _batch_signals(terminated: list[int]) -> Iterator[None]:
    """During a batch: SIGTERM stops it as Ctrl-C does (noted in ``terminated``), and a
    closed stdout raises BrokenPipeError instead of killing this process at once, which
    left the worker processes running, blocked on a queue no one read."""

    def on_term(signum: int, frame: object) -> None:
        terminated.append(signum)
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    pipe = signal.signal(signal.SIGPIPE, signal.SIG_IGN) if hasattr(signal, "SIGPIPE") else None
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if pipe is not None:
            signal.signal(signal.SIGPIPE, pipe)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    # Die quietly when the reader of a pipe goes away (`ai-office units | head`).
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # A warning is one plain line for a person, not Python's file:line and source line.
    warnings.showwarning = _show_warning
    if sys.stdout is None:
        # Started with file descriptor 1 closed (`>&-`): Python sets sys.stdout to None and
        # every command would fail later with a traceback; say so once instead.
        if sys.stderr is not None:
            print("Error: standard output is closed; redirect it (> FILE or > /dev/null)",
                  file=sys.stderr)
        sys.exit(1)
    try:
        cli.main(args=argv, prog_name="ai-office")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        # What the library can fail on it reports as a RouterError naming the file; an
        # OSError without a file name comes from writing a stream: stdout on a full disk
        # or a device that refuses writes (`ai-office ask ... > /dev/full`).
        what = f"cannot use {exc.filename}" if exc.filename else "cannot write standard output"
        with contextlib.suppress(OSError):  # Python's own flush at exit would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        advice = "free some space or send the output elsewhere" if full else "send it elsewhere"
        click.echo(f"Error: {clean_for_display(what)}: {exc.strerror or exc}; {advice}", err=True)
        sys.exit(1)


def _show_warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    click.echo(f"Warning: {clean_for_display(str(message))}", err=True)
