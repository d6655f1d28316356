"""An output folder replaced as a whole: a reader sees the previous run or the new one.

A run writes its files into a hidden sibling of the folder
(``.NAME.partial-PID-TOKEN``), and only when every file is written swaps that sibling
in place of the folder. On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call,
atomic; elsewhere (or on a file system without it) it is two renames, and a run killed
between them leaves the previous folder as ``.NAME.old-PID-TOKEN``, which the next run
puts back. The folder replaced is then deleted. A run that fails or is interrupted
removes its partial folder; one killed outright (SIGKILL, power cut) leaves it, and
the next run into the same folder removes it (once its process is gone).

A folder is replaced only if it is ours: every entry in it is a file the command writes
(``names``), or listed in its ``manifest.json``. Anything else (a user's notes, another
command's outputs) makes :func:`replacing` raise :class:`NotOurs`, unless ``force``:
then the run writes into the folder itself, file by file (each file still atomic),
keeping what is not its own; a run cut short there can leave a mix.

Each run's folder holds ``manifest.json``: the command, the package version, the
claims' fingerprint and every file with its size and SHA-256, so that a folder can be
checked to be one run (:func:`check_manifest`).

A SIGINT that arrives during the swap is held until the swap is done, and the
KeyboardInterrupt then raised is an :class:`Interrupted` that says what the folder holds.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from casualty_models._version import __version__

MANIFEST = "manifest.json"
_REPLACED: set[Path] = set()  # folders this process has swapped a new run into
_PARTIAL = ".partial-"
_OLD = ".old-"


class OutputError(OSError):
    """The outputs could not be written; the previous folder is as it was."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.message = message
        self.errno = code

    def __str__(self) -> str:
        return self.message


class NotOurs(Exception):
    """The folder holds entries the command did not write (``foreign``)."""

    def __init__(self, folder: Path, foreign: list[str]):
        self.folder = folder
        self.foreign = foreign
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        super().__init__(
            f"{folder} holds files this command did not write ({shown}); a run replaces its "
            "output folder as a whole, which would delete them. Give a new or empty folder "
            "with --out, or --force to write into this one file by file (its other files "
            "are kept, but a run cut short there can leave old and new outputs mixed)"
        )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (a KeyboardInterrupt, or any other interrupt that is not an Exception)
    while outputs were written; ``kept`` says what the folder holds now."""

    def __init__(self, kept: str):
        super().__init__(kept)
        self.kept = kept


@dataclass
class Run:
    """The folder a run writes into (``path``) and what its manifest will say."""

    target: Path
    path: Path
    command: str
    in_place: bool
    ours: Callable[[str], bool]
    meta: dict[str, Any] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def keep(self, name: str) -> None:
        """Carry ``name`` over from the folder being replaced, unchanged (if it has it)."""
        old = self.target / name
        if self.in_place or not old.is_file():
            return
        shutil.copy2(old, self.path / name)
        self.kept.append(name)


def replaced(target: str | Path) -> bool:
    """Whether this command has swapped a complete new run into ``target`` (since
    :func:`forget_replaced`): a Ctrl-C after that moment leaves the new run, whatever
    the caller had time to note."""
    return Path(target).resolve() in _REPLACED


def forget_replaced() -> None:
    """A new command begins: no folder replaced by it yet."""
    _REPLACED.clear()


def is_partial(name: str, target: Path) -> bool:
    """Whether ``name`` is a partial or replaced folder of ``target`` (a sibling)."""
    return name.startswith(f".{target.name}{_PARTIAL}") or name.startswith(f".{target.name}{_OLD}")


def foreign_entries(folder: Path, ours: Callable[[str], bool]) -> list[str]:
    """Entries of ``folder`` that are neither ``ours`` nor listed in its manifest nor a
    temporary file of an atomic write (``.NAME.*.tmp``)."""
    listed: set[str] = set()
    manifest = folder / MANIFEST
    if manifest.is_file():
        with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
            listed = set(json.loads(manifest.read_text(encoding="utf-8")).get("files", {}))
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name == MANIFEST or (name in listed and entry.is_file()):
            continue
        if entry.is_file() and (ours(name) or _atomic_temp(name, ours)):
            continue
        out.append(name + ("/" if entry.is_dir() else ""))
    return out


def _atomic_temp(name: str, ours: Callable[[str], bool]) -> bool:
    # casualty_models._atomic names its temporary files ".NAME.RANDOM.tmp"
    if not (name.startswith(".") and name.endswith(".tmp")):
        return False
    stem = name[1:-4].rsplit(".", 1)[0]
    return ours(stem)


def tidy(target: Path) -> None:
    """Put back a folder left as ``.NAME.old-*`` by a run killed mid-swap, and remove
    the partial and replaced folders of runs whose process is gone."""
    parent = target.parent
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir(), key=lambda p: p.name):
        if not entry.is_dir() or not is_partial(entry.name, target):
            continue
        pid = _pid_of(entry.name)
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue  # another run, still writing
        if _OLD in entry.name and not target.exists():
            with contextlib.suppress(OSError):
                os.rename(entry, target)  # the swap was cut between its two renames
                continue
        shutil.rmtree(entry, ignore_errors=True)


def _pid_of(name: str) -> int | None:
    tail = name.rsplit(_PARTIAL, 1)[-1] if _PARTIAL in name else name.rsplit(_OLD, 1)[-1]
    head = tail.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def replacing(
    target: str | os.PathLike[str],
    *,
    command: str,
    ours: Callable[[str], bool],
    force: bool = False,
) -> Iterator[Run]:
    """Write a run's outputs into a fresh folder and swap it in place of ``target``.

    Raises :class:`NotOurs` (before anything is written) when ``target`` holds entries
    that are not ``ours``, unless ``force``, which writes into ``target`` itself. Any
    error or interrupt in the block leaves ``target`` as it was; an OSError is raised
    as :class:`OutputError` naming the folder.
    """
    target = Path(target)
    tidy(target)
    existed = target.is_dir()
    if existed and not force:
        foreign = foreign_entries(target, ours)
        if foreign:
            raise NotOurs(target, foreign)
    if force:
        yield from _in_place(target, command, ours)
        return
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    staging = target.parent / f".{target.name}{_PARTIAL}{token}"
    run = Run(target=target, path=staging, command=command, in_place=False, ours=ours)
    swapped = False
    # one try from the new folder's making to its swap: an interrupt at any moment before
    # the swap (even between two statements here) removes the new folder
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
        except OSError as err:
            raise OutputError(
                f"cannot write beside {target} (a run writes its new folder there): "
                f"{err.strerror or err}",
                err.errno,
            ) from err
        yield run
        with _holding_sigint() as held:
            write_manifest(run)
            try:
                _swap(staging, target, token)
            except OSError as err:
                message = f"cannot replace {target}: {err.strerror or err}"
                raise OutputError(message, err.errno) from err
            swapped = True
            _REPLACED.add(target.resolve())
        if held:
            raise Interrupted(f"the new run is complete in {target}")
    except BaseException as err:
        if not swapped:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, Interrupted | OutputError):
            raise
        if not isinstance(err, Exception):  # Ctrl-C, however raised
            kept = f"the new run is complete in {target}" if swapped else None
            raise Interrupted(kept or _unchanged(target, existed)) from err
        if isinstance(err, OSError):
            raise OutputError(f"{err.strerror or err}{_named(err)}", err.errno) from err
        raise


def _in_place(target: Path, command: str, ours: Callable[[str], bool]) -> Iterator[Run]:
    """--force: write into ``target`` itself; the caller removes its own stale files."""
    run = Run(target=target, path=target, command=command, in_place=True, ours=ours)
    try:
        target.mkdir(parents=True, exist_ok=True)
        yield run
        write_manifest(run)
    except OSError as err:
        if isinstance(err, OutputError):
            raise
        raise OutputError(f"{err.strerror or err}{_named(err)}", err.errno) from err
    except BaseException as err:
        if isinstance(err, Exception | Interrupted):
            raise
        raise Interrupted(f"{target} may hold some files of this run (--force)") from err


def _named(err: OSError) -> str:
    return f": {err.filename}" if err.filename else ""


def _unchanged(target: Path, existed: bool) -> str:
    if existed:
        return f"{target} is as it was before this run (its previous outputs, complete)"
    return f"nothing was written ({target} does not exist)"


def _swap(staging: Path, target: Path, token: str) -> None:
    """Put ``staging`` where ``target`` is, then delete what was there."""
    if not target.exists():
        try:
            os.rename(staging, target)
            return
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise  # else someone made the folder meanwhile: replace it below
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous run
        return
    old = target.parent / f".{target.name}{_OLD}{token}"
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False
    where the system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _holding_sigint() -> Iterator[list[int]]:
    """Hold SIGINT during the block (the main thread only); the list it yields is
    non-empty afterwards when one arrived."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


# ----------------------------------------------------------------------- the manifest


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(run: Run) -> None:
    """``manifest.json`` of the run's folder: every file with its size and SHA-256 (in
    a folder written ``--force``, only the files the command writes)."""
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _digest(p)}
        for p in sorted(run.path.iterdir(), key=lambda p: p.name)
        if p.is_file()
        and p.name != MANIFEST
        and not p.name.startswith(".")
        and (not run.in_place or run.ours(p.name))
    }
    data = {
        "command": run.command,
        "package_version": __version__,
        **run.meta,
        "kept_from_previous_run": sorted(run.kept),
        "files": files,
    }
    from casualty_models._atomic import atomic_write

    atomic_write(run.path / MANIFEST, json.dumps(data, indent=2) + "\n")


def check_manifest(folder: str | os.PathLike[str], *, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """The manifest of ``folder`` after checking that every file it lists is there with
    its SHA-256, and that the folder holds no other file (``ignore`` aside). Raises
    ValueError naming the first mismatch."""
    folder = Path(folder)
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    files = data["files"]
    skip = {MANIFEST, *ignore}
    present = {p.name for p in folder.iterdir() if p.name not in skip}
    if present != set(files):
        raise ValueError(
            f"{folder}: files {sorted(present ^ set(files))} differ from the manifest's"
        )
    for name, info in files.items():
        if _digest(folder / name) != info["sha256"]:
            raise ValueError(f"{folder / name} is not the file its manifest lists")
    return data


__all__ = [
    "MANIFEST",
    "Interrupted",
    "NotOurs",
    "OutputError",
    "Run",
    "check_manifest",
    "foreign_entries",
    "replacing",
    "tidy",
]
