"""A pack is a sandbox: the files it names are read from inside its folder only, as plain
files of bounded size.

A pack folder can come from anyone. Without these checks a ``file:`` entry of
``/etc/passwd`` or ``../../secret`` would be quoted as a mandate, ``/dev/zero`` as a source
would fill memory and a FIFO would hang loading for ever.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import PackError

__all__ = [
    "MAX_MODEL_BYTES",
    "MAX_SOURCE_BYTES",
    "MAX_YAML_BYTES",
    "check_links",
    "inside",
    "open_regular",
    "read_limited",
]

#: The largest YAML file a pack may hold (the bundled pack's largest is under 1 MB).
MAX_YAML_BYTES = 16 * 1024 * 1024
#: The largest source document (the AI Act's text is 0.6 MB).
MAX_SOURCE_BYTES = 64 * 1024 * 1024
#: The largest stored model, once unpacked (the bundled Act model is 50 MB).
MAX_MODEL_BYTES = 1024 * 1024 * 1024


def inside(folder: Path, name: str, *, named_in: Path, line: int | None = None) -> Path:
    """``folder / name``, refused unless it stays inside ``folder``.

    Raises:
        PackError: ``name`` is absolute, climbs out with ``..``, or is a symlink (or under
            one) that leads outside ``folder``; the message names the file that names it.
    """
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if (
        not name.strip()
        or posix.is_absolute()
        or windows.is_absolute()
        or windows.drive
        or ".." in posix.parts
        or ".." in windows.parts
    ):
        raise PackError(
            f"{name!r} is not a path inside the pack's {folder.name}/ folder; name files "
            "relative to it, without '..' (a pack reads only its own files)",
            path=named_in,
            line=line,
        )
    path = folder / name
    if not _within(path, folder):
        raise PackError(
            f"{name!r} leads outside the pack's {folder.name}/ folder (through a symlink); "
            "copy the file into the pack instead",
            path=named_in,
            line=line,
        )
    return path


def _within(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def check_links(root: Path, folders: tuple[Path, ...]) -> None:
    """Refuse a pack with a symlink, anywhere under ``folders``, that leads outside ``root``.

    Raises:
        PackError: names the symlink.
    """
    for folder in folders:
        paths = [folder]  # corpus/ itself may be the symlink
        for parent, dirs, files in os.walk(folder):  # does not follow symlinked folders
            paths += [Path(parent) / name for name in dirs + files]
        for path in paths:
            if path.is_symlink() and not _within(path, root):
                raise PackError(
                    "is a symlink that leads outside the pack folder; a pack reads only "
                    "its own files: copy the file into the pack instead",
                    path=path,
                )


def open_regular(path: Path, *, limit: int) -> int:
    """A descriptor of ``path`` opened for reading, refused unless it is a regular file of
    at most ``limit`` bytes. Opening does not block, so a FIFO cannot hang the caller.

    Raises:
        PackError: missing, unreadable, not a regular file, or too large.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PackError(f"cannot read the file ({exc.strerror})", path=path) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PackError(
                "is not a regular file (a folder, device or pipe); a pack holds plain files",
                path=path,
            )
        if info.st_size > limit:
            raise PackError(
                f"is {info.st_size:,} bytes, more than the {limit:,} a pack file may hold",
                path=path,
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_limited(path: Path, *, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`)."""
    fd = open_regular(path, limit=limit)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise PackError(f"cannot read the file ({exc.strerror})", path=path) from exc
    if len(data) > limit:  # it grew while being read
        raise PackError(f"is more than the {limit:,} bytes a pack file may hold", path=path)
    return data
