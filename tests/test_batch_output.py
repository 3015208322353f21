"""router.batch.output: the output checked before the run, the atomic write, write errors."""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import threading
from pathlib import Path

import pytest

from router import InputError, Router
from router.batch import atomic_output, check_output, run_batch
from router.batch.output import destination, stdout_escape


def test_atomic_output_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_output(str(target)) as stream:
        stream.write("half a row")
        assert not target.exists()
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    with atomic_output(str(target)) as stream:
        stream.write("done\n")
        assert not target.exists()
    assert target.read_text() == "done\n"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_output_gzip(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl.gz"
    with atomic_output(str(target)) as stream:
        stream.write("x\n")
    assert gzip.decompress(target.read_bytes()) == b"x\n"


def test_check_output_refuses_a_folder_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a folder; give -o a file name"):
        check_output(str(tmp_path))
    with pytest.raises(InputError, match=r"there is no folder .*; create it or choose"):
        check_output(str(tmp_path / "missing" / "out.csv"))
    check_output(str(tmp_path / "out.csv"))  # a file in a folder that exists: fine
    check_output(None)


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_an_input_error_not_a_traceback(router: Router, tmp_path: Path) -> None:
    src = tmp_path / "log.txt"
    src.write_text("who fines GPAI providers?\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        run_batch([str(src)], None, router, stdout=FullDisk())
    assert str(info.value) == (
        "cannot write the output: No space left on device; free some space or choose another -o"
    )


def test_a_device_a_pipe_or_a_path_under_dev_is_written_in_place_not_renamed_over(
    tmp_path: Path,
) -> None:
    # Renaming the temporary file over /dev/null replaced the device with a file (as root).
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path in ("/dev/null", "/dev/full", "/dev/stdout", "/proc/self/fd/1", str(fifo)):
        assert destination(path) == (path, False)


def test_a_new_name_a_file_and_a_symlink_to_a_file_are_written_atomically(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    assert destination(str(tmp_path / "new.jsonl")) == (str(tmp_path / "new.jsonl"), True)
    assert destination(str(real)) == (str(real), True)
    assert destination(str(link)) == (str(real), True)  # the file it leads to, atomically
    with atomic_output(str(link)) as stream:
        stream.write("new\n")
    assert link.is_symlink() and real.read_text() == "new\n"  # the link stays a link


def test_writing_into_a_named_pipe_keeps_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    check_output(str(fifo))
    with atomic_output(str(fifo)) as stream:
        stream.write("row\n")
    reader.join(timeout=30)
    assert got == [b"row\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no .part file


def test_csv_on_stdout_is_escaped_only_on_a_terminal_and_json_lines_always() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    row = "a\u202eb\x1b[2J\n"
    on_screen, piped = Terminal(), io.StringIO()
    for fmt in ("csv", "jsonl"):
        escape = stdout_escape(None, on_screen, fmt)
        assert escape is not None and escape(row) == "a\\u202eb\\u001b[2J\n"
    assert stdout_escape(None, piped, "csv") is None  # a pipe gets the bytes unchanged
    assert stdout_escape("-", piped, "jsonl") is not None  # JSON's escape is lossless
    assert stdout_escape("out.csv", on_screen, "csv") is None  # a file keeps the data
