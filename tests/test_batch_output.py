"""router.batch.output: the output checked before the run, the atomic write, write errors."""

from __future__ import annotations

import errno
import gzip
import io
from pathlib import Path

import pytest

from router import InputError, Router
from router.batch import atomic_output, check_output, run_batch


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
