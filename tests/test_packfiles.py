"""router.packfiles and router.yamlio: a pack reads only its own plain files, of bounded size,
and YAML whose aliases cannot blow up."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import TINY_SOURCES

from router import PackError, load_pack

#: A loader run in a child process with a memory ceiling and a time limit: a pack that
#: used to exhaust memory or hang fails the test instead of the machine.
CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))
    from router import PackError, load_pack
    try:
        load_pack(sys.argv[1])
    except PackError as exc:
        print(exc)
        sys.exit(3)
    """
)


def load_in_child(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True, timeout=60
    )


def sources_naming(name: str) -> str:
    return TINY_SOURCES.replace("file: sources/charter.txt", f"file: {name}")


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../../outside.txt", "sources/../../outside.txt", "C:\\\\x.txt"]
)
def test_source_file_outside_the_pack_folder_is_refused(make_pack, tmp_path: Path, name) -> None:
    # A mandate could quote /etc/passwd: the file was opened wherever the entry pointed.
    quote = "The Billing Desk answers questions about invoices and refunds.\n"
    (tmp_path / "outside.txt").write_text(quote)
    root = make_pack({"corpus/sources.yaml": sources_naming(name)})
    with pytest.raises(PackError, match=r"sources\.yaml, line 2: .* is not a path inside"):
        load_pack(root)


def test_symlink_leaving_the_pack_folder_is_refused(make_pack, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("The Billing Desk answers questions about invoices and refunds.\n")
    root = make_pack()
    source = root / "corpus/sources/charter.txt"
    source.unlink()
    source.symlink_to(outside)
    with pytest.raises(PackError, match=r"charter\.txt: is a symlink that leads outside"):
        load_pack(root)


def test_symlinked_intent_file_leaving_the_pack_is_refused(make_pack, tmp_path: Path) -> None:
    root = make_pack()
    intents = root / "intents/support.yaml"
    copy = tmp_path / "support.yaml"
    copy.write_text(intents.read_text())
    intents.unlink()
    intents.symlink_to(copy)
    with pytest.raises(PackError, match="symlink that leads outside"):
        load_pack(root)


def test_symlink_inside_the_pack_still_loads(make_pack) -> None:
    root = make_pack()
    (root / "corpus/sources/alias.txt").symlink_to(root / "corpus/sources/charter.txt")
    assert load_pack(make_pack({"corpus/sources.yaml": sources_naming("sources/alias.txt")}))


def test_dev_zero_as_a_source_does_not_exhaust_memory(make_pack) -> None:
    absolute = make_pack({"corpus/sources.yaml": sources_naming("/dev/zero")})
    result = load_in_child(absolute)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "is not a path inside" in result.stdout
    root = make_pack()
    source = root / "corpus/sources/charter.txt"
    source.unlink()
    source.symlink_to("/dev/zero")
    result = load_in_child(root)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "symlink that leads outside" in result.stdout


@pytest.mark.parametrize("where", ["corpus/sources/charter.txt", "intents/support.yaml"])
def test_fifo_in_a_pack_does_not_hang_loading(make_pack, where: str) -> None:
    root = make_pack()
    (root / where).unlink()
    os.mkfifo(root / where)
    result = load_in_child(root)  # used to block for ever on open()
    assert result.returncode == 3, result.stderr[-2000:]
    assert "is not a regular file" in result.stdout


def test_source_over_the_size_cap_is_refused(make_pack, monkeypatch: pytest.MonkeyPatch) -> None:
    import router.pack

    monkeypatch.setattr(router.pack, "MAX_SOURCE_BYTES", 40)
    with pytest.raises(PackError, match=r"charter\.txt: is \d+ bytes, more than the 40"):
        load_pack(make_pack())


def test_yaml_over_the_size_cap_is_refused(make_pack, monkeypatch: pytest.MonkeyPatch) -> None:
    import router.yamlio

    monkeypatch.setattr(router.yamlio, "MAX_YAML_BYTES", 100)
    with pytest.raises(PackError, match=r"sources\.yaml: is \d+ bytes, more than the 100"):
        load_pack(make_pack())


ALIAS_BOMB = (
    "unit: billing\nbase: &a [invoice, refund, invoice, refund, invoice, refund]\n"
    + "".join(f"t{i}: &t{i} [{', '.join([f'*t{i - 1}' if i else '*a'] * 8)}]\n" for i in range(8))
    + "terms: [*t7, *t7, *t7, *t7, *t7, *t7, *t7, *t7]\n"
    + "examples: [where is my invoice, I want a refund]\n"
)


def test_yaml_alias_bomb_in_terms_is_refused_quickly(make_pack) -> None:
    # Nine short lines that stand for billions of terms: loading hung (and grew) for ever.
    result = load_in_child(make_pack({"intents/billing.yaml": ALIAS_BOMB}))
    assert result.returncode == 3, result.stderr[-2000:]
    assert "billing.yaml: its aliases (*name) expand it to" in result.stdout


def test_a_few_yaml_aliases_are_still_allowed(make_pack) -> None:
    shared = (
        "unit: billing\nterms: &t [invoice, refund]\nalso: *t\n"
        "examples: [where is my invoice, I want a refund, refund my payment please]\n"
    )
    pack = load_pack(make_pack({"intents/billing.yaml": shared}))
    assert pack.intents[0].terms == ("invoice", "refund")


def test_act_text_outside_the_pack_is_refused(make_pack) -> None:
    from router.law import load_provisions

    root = make_pack({"corpus/provisions.yaml": "source:\n  file: /etc/hostname\n  eli: x\n"})
    with pytest.raises(PackError, match=r"provisions\.yaml: '/etc/hostname' is not a path inside"):
        load_provisions(root / "corpus")


def test_corpus_folder_that_is_a_symlink_leaving_the_pack_is_refused(
    make_pack, tmp_path: Path
) -> None:
    root = make_pack()
    (root / "corpus").rename(tmp_path / "real-corpus")
    (root / "corpus").symlink_to(tmp_path / "real-corpus")
    with pytest.raises(PackError, match=r"corpus: is a symlink that leads outside"):
        load_pack(root)


def test_units_file_that_is_a_folder_is_named_for_what_it_is(make_pack) -> None:
    root = make_pack()
    (root / "corpus/units.yaml").unlink()
    (root / "corpus/units.yaml").mkdir()  # was reported as "is missing"
    with pytest.raises(PackError, match=r"units\.yaml: is not a regular file"):
        load_pack(root)
