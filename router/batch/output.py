"""Where a batch's rows go: the output format, the atomic write, and the summary of a run."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..text import escaped_for_terminal, json_lines_for_terminal
from .encode import ERROR, Counts, csv_line
from .records import SUFFIXES

__all__ = [
    "OUTPUT_FORMATS",
    "BatchInterrupted",
    "Summary",
    "Tally",
    "atomic_output",
    "check_output",
    "output_format_for",
    "stdout_escape",
    "write_parts",
]

OUTPUT_FORMATS = ("csv", "jsonl")


class BatchInterrupted(KeyboardInterrupt):
    """The job was stopped (Ctrl-C) after ``rows`` rows; no output file was left behind.

    A :class:`KeyboardInterrupt`, so code that does not expect it still stops.
    """

    def __init__(self, rows: int, output: str | None = None) -> None:
        self.rows = rows
        self.output = output
        where = f"; {output} was not written" if output else ""
        super().__init__(f"interrupted after {rows:,} rows{where}")

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Summary:
    """What a batch run did.

    Attributes:
        rows: rows written (every input row).
        routed, clarify, out_of_scope, errors: rows per decision.
        per_unit: ``(unit id, rows routed to it)``, most first.
        seconds: wall time of the run.
    """

    rows: int
    routed: int
    clarify: int
    out_of_scope: int
    errors: int
    per_unit: tuple[tuple[str, int], ...]
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def share(self, count: int) -> float:
        """``count`` as a share of the rows (0 when there are none)."""
        return count / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "routed": self.routed,
            "clarify": self.clarify,
            "out_of_scope": self.out_of_scope,
            "errors": self.errors,
            "per_unit": dict(self.per_unit),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Tally:
    """Counts rows as they are written; :meth:`summary` freezes them."""

    decisions: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    @property
    def rows(self) -> int:
        return self.decisions.total()

    def add(self, decision: str, unit: str | None, n: int = 1) -> None:
        """Count ``n`` rows with this decision and unit."""
        self.decisions[decision] += n
        if unit is not None:
            self.units[unit] += n

    def summary(self) -> Summary:
        return Summary(
            rows=self.rows,
            routed=self.decisions["routed"],
            clarify=self.decisions["clarify"],
            out_of_scope=self.decisions["out_of_scope"],
            errors=self.decisions[ERROR],
            per_unit=tuple(self.units.most_common()),
            seconds=time.perf_counter() - self.started,
        )


def output_format_for(output: str | None, output_format: str | None) -> str:
    """The output format: ``output_format``, else the output's suffix, else JSON Lines.

    Raises:
        InputError: the format is not csv or jsonl, or the output's suffix names none.
    """
    if output_format is not None:
        fmt = output_format
    elif output is None or output == "-":
        fmt = "jsonl"
    elif not Path(output.removesuffix(".gz")).suffix:
        fmt = "jsonl"  # no suffix at all: the default
    else:
        # A suffix that names no format ("out.xlsx") would get JSON Lines under a name
        # that says otherwise: refuse it unless the format is given.
        fmt = SUFFIXES.get(Path(output.removesuffix(".gz")).suffix.lower(), "")
        if not fmt:
            raise InputError(
                f"cannot tell the output format of {output} from its name; name it .csv or "
                ".jsonl, or pass --output-format csv or jsonl"
            )
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"cannot write {fmt}; the output format is csv or jsonl")
    return fmt


def check_output(output: str | None) -> None:
    """Fail now, before any routing, if ``output`` cannot be written: it names a folder,
    or its folder is missing or not writable. None or ``-`` (stdout) always can.

    Raises:
        InputError: says which and what to do.
    """
    if output is None or output == "-":
        return
    target = Path(output)
    if target.is_dir():
        raise InputError(
            f"{output} is a folder; give -o a file name, such as {target / 'routed.jsonl'}"
        )
    where, atomic = destination(output)
    if not atomic:  # a device or a pipe, written in place: it must take writes itself
        if not os.access(where, os.W_OK):
            raise InputError(f"cannot write {output}: permission denied; choose another -o")
        return
    target = Path(where)
    folder = target.parent
    if not folder.is_dir():
        raise InputError(
            f"cannot write {output}: there is no folder {folder}; create it or choose another -o"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write {output}: the folder {folder} is not writable; choose another -o"
        )


@contextlib.contextmanager
def atomic_output(output: str | None, *, stdout: IO[str] | None = None) -> Iterator[IO[str]]:
    """A text stream for ``output`` that appears under its name only when complete.

    Writes to a hidden temporary file in the target folder (so the final rename stays on one
    file system and is atomic) and renames it when the block ends without an exception; on
    any exception, Ctrl-C included, the temporary file is removed. ``None`` or ``-`` is
    ``stdout``. A ``.gz`` name is gzipped.

    Raises:
        InputError: the target folder cannot be written to.
    """
    if output is None or output == "-":
        yield stdout if stdout is not None else sys.stdout
        return
    where, atomic = destination(output)
    if not atomic:
        yield from _in_place(where)
        return
    target = Path(where)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write to {folder}: {exc.strerror}") from exc
    # mkstemp creates the file 0600; the output is an ordinary file, so the umask decides.
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666 & ~umask)
    raw = os.fdopen(fd, "wb")
    try:
        yield from _text_over(raw, gzipped=output.endswith(".gz"))
        raw.close()
        os.replace(tmp, target)
    except BaseException:
        raw.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def destination(output: str) -> tuple[str, bool]:
    """Where ``-o output`` is written, and whether atomically (a hidden temporary file
    renamed over it).

    A new name or a regular file: atomically, at that name. A symlink to a regular file:
    atomically at the file it leads to, so the link stays a link. A device, a FIFO, a
    socket or anything under ``/dev`` or ``/proc`` (``/dev/null``, ``/dev/stdout``, a
    shell's ``>(gzip > x)``): in place. Renaming a file over those would replace the
    device itself: run as root, ``-o /dev/null`` used to turn ``/dev/null`` into a file.
    """
    absolute = os.path.abspath(output)
    if absolute.startswith(("/dev/", "/proc/")):
        return output, False
    try:
        mode = os.lstat(output).st_mode
    except OSError:
        return output, True  # a new file
    if stat.S_ISREG(mode):
        return output, True
    if stat.S_ISLNK(mode):
        resolved = os.path.realpath(output)
        try:
            regular = stat.S_ISREG(os.stat(resolved).st_mode)
        except OSError:
            regular = not os.path.lexists(resolved)  # a dangling link: made at its target
        if regular and not resolved.startswith(("/dev/", "/proc/")):
            return resolved, True
    return output, False


def _in_place(path: str) -> Iterator[IO[str]]:
    """Write straight into ``path`` (a device or a pipe): nothing to rename, and on an
    error or Ctrl-C whatever was written has been written."""
    try:
        raw = open(path, "wb")  # noqa: SIM115 - closed below, after the caller's block
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}; choose another -o") from exc
    try:
        yield from _text_over(raw, gzipped=path.endswith(".gz"))
    finally:
        with contextlib.suppress(OSError):
            raw.close()


def _text_over(raw: IO[bytes], *, gzipped: bool) -> Iterator[IO[str]]:
    """The UTF-8 text stream written into ``raw`` (through gzip for a ``.gz`` name), flushed
    and closed (``raw`` itself is not: the caller decides what follows)."""
    binary: IO[bytes] = raw
    if gzipped:
        binary = gzip.GzipFile(fileobj=raw, mode="wb")  # type: ignore[assignment]
    with io.TextIOWrapper(binary, encoding="utf-8", newline="") as stream:
        yield stream


def write_parts(
    output: str | None,
    stdout: IO[str] | None,
    columns: list[str] | None,
    parts: Iterator[tuple[Any, tuple[str, Counts]]],
    tally: Tally,
    done: Callable[[Any], None] | None = None,
) -> None:
    """Write the encoded parts in order (atomically to a file), counting their rows;
    ``done(kept)`` after each. Closes ``parts`` (and so stops its workers) at the end.

    Raises:
        BatchInterrupted: Ctrl-C; the output file is not written.
        InputError: the output cannot be written (a full disk); the file is not written.
        BrokenPipeError: stdout was closed by its reader.
    """
    try:
        with atomic_output(output, stdout=stdout) as stream:
            escape = stdout_escape(output, stream, "jsonl" if columns is None else "csv")
            if columns is not None:
                header = csv_line(columns)  # input names: they may hold escape sequences too
                stream.write(escape(header) if escape else header)
            for kept, (text, counts) in parts:
                stream.write(escape(text) if escape else text)
                for (decision, unit), n in counts.items():
                    tally.add(decision, unit, n)
                if done is not None:
                    done(kept)
            stream.flush()
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(tally.rows, _replaced(output)) from exc
    except BrokenPipeError:
        raise  # the reader of stdout went away: the caller decides how to end
    except OSError as exc:  # a full disk, most often
        where = file_name(output) or "the output"
        kept = f"; {where} was not written" if _replaced(output) else ""
        raise InputError(
            f"cannot write {where}: {exc.strerror or exc}{kept}; free some space or "
            "choose another -o"
        ) from exc
    finally:
        parts.close()  # type: ignore[attr-defined]


def stdout_escape(
    output: str | None, stream: IO[str], output_format: str
) -> Callable[[str], str] | None:
    """How rows written to ``stream`` must be escaped so that they cannot drive a terminal,
    or None to write them as they are.

    A file (``output`` names one) keeps the data as it came. JSON Lines on stdout always
    writes controls, bidi and invisible format characters as ``\\uXXXX``: JSON's own
    escape, lossless, so a pipe loses nothing either. CSV has no escape of its own, so it
    is escaped only when stdout is a terminal (what ``ls`` does with control characters in
    names): a person reads it there; a pipe or a redirect gets the bytes unchanged, for the
    next program.
    """
    if output not in (None, "-"):
        return None
    if output_format == "jsonl":
        return json_lines_for_terminal
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream: not a terminal
        terminal = False
    return escaped_for_terminal if terminal else None


def _replaced(output: str | None) -> str | None:
    """``output`` when it is written atomically (so an interrupted run leaves it as it was),
    None for stdout, a device or a pipe."""
    name = file_name(output)
    return name if name is not None and destination(name)[1] else None


def file_name(output: str | None) -> str | None:
    """``output`` when it names a file, None for stdout."""
    return output if output not in (None, "-") else None
