"""router.batch.output: the atomic write."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from router.batch import atomic_output


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
