"""Reading inputs safely: bounded, once, and only from things that end.

Profiles, rule files, catalogs and templates may come from someone else, and
a path on the command line may name anything: a device that never ends
(``/dev/zero``), a FIFO nobody writes to, a ``/proc`` file whose size says 0,
or a process substitution (``<(cat p.yaml)``) that can be read only once.
:func:`read_bounded` is the one way advisor reads such a path:

* regular files (also through symlinks) and pipes are read, at most
  :data:`MAX_BYTES`; a pipe must end within :data:`PIPE_TIMEOUT_S`;
* devices, sockets and folders are refused before they are opened (opening
  some devices has side effects);
* inside :func:`reading_session` (every command runs in one) the identity
  (device, inode) and the bytes of every file read are recorded: output
  writing refuses to replace an input, and a file asked for again (a cache key,
  then the load) gets the same bytes without a second read, so a pipe or FIFO
  works and the bytes hashed for provenance are the bytes evaluated.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import select
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from advisor.errors import InputError, Problem, escape_controls

#: Largest input advisor reads. Profiles are a few KB and the whole rule
#: library is well under 1 MB; anything bigger is a mistake or an attack.
MAX_BYTES = 2 * 1024 * 1024
#: How long a pipe (or FIFO, or standard input) may take to deliver its input.
PIPE_TIMEOUT_S = 30.0

Identity = tuple[int, int]
#: per session: identity -> (size, modification time, bytes read)
_Read = dict[Identity, tuple[int, int, bytes]]
_session: contextvars.ContextVar[_Read | None] = contextvars.ContextVar(
    "advisor_inputs_read", default=None)


@contextlib.contextmanager
def reading_session() -> Iterator[None]:
    """Record every file read inside the block (see the module docstring)."""
    token = _session.set({})
    try:
        yield
    finally:
        _session.reset(token)


def inputs_read() -> frozenset[Identity]:
    """Identities of the files read so far in the current session."""
    seen = _session.get()
    return frozenset(seen) if seen is not None else frozenset()


def identity(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino)


def _kind(mode: int) -> str | None:
    """Why a file of this mode cannot be read as an input, or None."""
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        return "is not a regular file"
    return None


def _too_large(name: str, what: str, limit: int) -> InputError:
    return InputError.single(name, f"{what} is larger than the {limit:,}-byte limit",
                             hint="advisor files are small; check that this is the right file")


def _read_all(fd: int, name: str, what: str, limit: int, timeout: float | None) -> bytes:
    """Read to the end, at most ``limit`` bytes. With a ``timeout`` (pipes and
    FIFOs), wait at most that long in all: a FIFO nobody writes to is an
    error, not a hang."""
    chunks: list[bytes] = []
    total = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise InputError.single(name, f"{what} did not end within {timeout:g} s",
                                        hint="a pipe or FIFO must deliver the whole file and close")
        try:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        except BlockingIOError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(name, what, limit)


def read_bounded(path: str | os.PathLike[str], *, what: str = "file",
                 limit: int | None = None, timeout: float | None = None) -> bytes:
    """The bytes of an input file (``-`` is standard input), read once.

    Raises :class:`InputError` (exit 2) for anything that is not a regular
    file or a pipe, anything larger than ``limit`` and pipes that do not end.
    """
    limit = MAX_BYTES if limit is None else limit
    timeout = PIPE_TIMEOUT_S if timeout is None else timeout
    name = str(path)
    if name == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError.single("-", f"{what} on standard input: nothing is piped in",
                                    hint="pipe a file in, e.g. 'cat profile.yaml | advisor evaluate -'")
        try:
            fd, close = sys.stdin.fileno(), False
        except (AttributeError, OSError, ValueError):  # an in-memory stream (tests, embedding)
            data = sys.stdin.buffer.read(limit + 1)
            if len(data) > limit:
                raise _too_large(name, what, limit) from None
            return data
    else:
        try:  # refuse devices and sockets before opening them
            why = _kind(os.stat(name).st_mode)
        except FileNotFoundError:
            if Path(name).is_symlink():
                raise InputError.single(name, f"{what} is a broken symbolic link") from None
            raise InputError.single(name, f"{what} not found") from None
        except OSError as exc:
            raise InputError.single(name, f"cannot read {what}: {exc.strerror or exc}") from None
        if why == "is a directory":
            raise InputError.single(name, f"is a directory, expected a YAML {what}")
        if why:
            raise InputError.single(name, f"{what} {why}", hint="give the path of a file")
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise InputError.single(name, f"cannot read {what}: {exc.strerror or exc}") from None
        close = True
    try:
        st = os.fstat(fd)
        why = _kind(st.st_mode)
        if why:  # swapped since the stat above, or standard input is not a pipe/file
            raise InputError.single(name, f"{what} {why}", hint="give the path of a file")
        seen = _session.get()
        before = seen.get(identity(st)) if seen is not None else None
        if before is not None and (stat.S_ISFIFO(st.st_mode)
                                   or before[:2] == (st.st_size, st.st_mtime_ns)):
            return before[2]  # read already in this run: the same bytes, read once
        try:
            if stat.S_ISREG(st.st_mode):
                if close:
                    os.set_blocking(fd, True)
                data = _read_all(fd, name, what, limit, None)
            else:
                data = _read_all(fd, name, what, limit, timeout)
        except OSError as exc:
            raise InputError.single(name, f"cannot read {what}: {exc.strerror or exc}") from None
        if seen is not None:
            seen[identity(st)] = (st.st_size, st.st_mtime_ns, data)
        return data
    finally:
        if close:
            os.close(fd)


# ---------------------------------------------------------------- outputs ----
#
# Outputs are precious too: the -o path may name the profile itself, a device
# (/dev/null, /dev/full), a FIFO, or a symbolic link to anything. advisor
# writes only regular files, atomically (a temporary file renamed over the
# target), never over a file read in the same run, and never replaces a
# device, FIFO or symbolic link; --force writes *into* a device or FIFO, or
# through a link to the file it points to, as a shell redirection would.

#: Files ``--format all`` writes (and owns) in its folder; ``charts`` is a folder.
FOLDER_ENTRIES = ("report.md", "report.html", "report.pdf", "decision.json", "charts")


class OutputError(InputError):
    """A problem with an output path (exit 2)."""


def _out_error(name: str, message: str, hint: str | None = None) -> OutputError:
    return OutputError([Problem(name, None, None, message, hint)])


def _node_kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "socket" if stat.S_ISSOCK(mode) else "special file"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _out_error(str(path), f"cannot inspect the output: {exc.strerror or exc}") from None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


@dataclass(frozen=True)
class FileTarget:
    """Where one output file goes, checked before anything is rendered."""

    path: Path
    #: "replace" (a regular file or nothing: atomic rename) or "into" (an
    #: existing device or FIFO, with --force: written in place)
    mode: str
    #: identities the target must not have when written (the inputs named so far)
    protect: frozenset[Identity] = frozenset()


def _not_an_input(name: str, st: os.stat_result | None, protect: frozenset[Identity]) -> None:
    if st is not None and (identity(st) in protect or identity(st) in inputs_read()):
        raise _out_error(name, "is an input of this run; advisor never writes over its inputs",
                         "write the output to another path")


def check_file_target(output: str | os.PathLike[str], *, force: bool = False,
                      protect: frozenset[Identity] = frozenset(),
                      create_folder: bool = False) -> FileTarget:
    """Check that ``output`` may receive one file (raise OutputError if not)."""
    name = str(output)
    path = Path(name)
    st = _lstat(path)
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not force:
            raise _out_error(name, "is a symbolic link; advisor does not replace or write "
                                   "through links", "use --force to write to the file it points to")
        resolved = Path(os.path.realpath(path))
        target = check_file_target(resolved, force=force, protect=protect)
        return FileTarget(resolved, target.mode, protect)
    if st is None:
        parent = path.parent
        pst = _stat(parent)
        if pst is None and create_folder and _stat(parent.parent) is not None:
            return FileTarget(path, "replace", protect)
        if pst is None:
            raise _out_error(name, f"folder {parent} does not exist")
        if not stat.S_ISDIR(pst.st_mode):
            raise _out_error(name, f"{parent} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise _out_error(name, f"cannot write in folder {parent}: permission denied")
        return FileTarget(path, "replace", protect)
    _not_an_input(name, st, protect)
    kind = _node_kind(st.st_mode)
    if kind == "folder":
        raise _out_error(name, "is a directory; give a file name (or use --format all)")
    if kind == "file":
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise _out_error(name, f"cannot write in folder {path.parent}: permission denied")
        return FileTarget(path, "replace", protect)
    if kind in ("device", "FIFO") and force:
        return FileTarget(path, "into", protect)
    if kind in ("device", "FIFO"):
        raise _out_error(name, f"is a {kind}, not a regular file; advisor writes only regular files",
                         "use --force to write into it")
    raise _out_error(name, f"is a {kind}; advisor writes only regular files")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_file(target: FileTarget, data: bytes) -> None:
    """Write ``data`` to a checked target: atomically for regular files (a
    failed or interrupted run leaves the old file or nothing), in place for a
    device or FIFO that --force allowed."""
    name = str(target.path)
    try:
        if target.mode == "into":
            flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
            try:  # non-blocking open: a FIFO nobody reads fails now instead of hanging
                fd = os.open(target.path, flags | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    raise _out_error(name, "no process reads from this FIFO") from None
                raise
            try:
                os.set_blocking(fd, True)
                _write_fd(fd, data)
            finally:
                os.close(fd)
            return
        target.path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=str(target.path.parent), prefix=f".{target.path.name}.",
                                   suffix=".tmp")
        try:
            try:
                _write_fd(fd, data)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
            # checked again at the last moment: the path may have changed since
            st = _lstat(target.path)
            _not_an_input(name, st, target.protect)
            if st is not None and not stat.S_ISREG(st.st_mode):
                raise _out_error(name, f"became a {_node_kind(st.st_mode)} while advisor ran; "
                                       "not replaced")
            os.replace(tmp, target.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _out_error(name, f"cannot write: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class FolderTarget:
    """The folder ``--format all`` writes, checked before anything is rendered."""

    path: Path
    protect: frozenset[Identity] = frozenset()


def check_folder_target(output: str | os.PathLike[str], *, force: bool = False,
                        protect: frozenset[Identity] = frozenset()) -> FolderTarget:
    """Check that ``output`` is (or can become) a folder whose advisor files
    can all be replaced (raise OutputError naming the first obstacle)."""
    name = str(output)
    folder = Path(name)
    st = _stat(folder)  # a symbolic link to a folder is a folder the user chose
    if st is None:
        if _lstat(folder) is not None:
            raise _out_error(name, "is a broken symbolic link")
        parent = folder.parent
        pst = _stat(parent)
        if pst is None or not stat.S_ISDIR(pst.st_mode):
            raise _out_error(name, f"folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise _out_error(name, f"cannot create a folder in {parent}: permission denied")
        return FolderTarget(folder, protect)
    if not stat.S_ISDIR(st.st_mode):
        raise _out_error(name, "exists and is not a folder",
                         "--format all writes several files into a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _out_error(name, "cannot write in this folder: permission denied")
    for entry in FOLDER_ENTRIES:
        path = folder / entry
        est = _lstat(path)
        if est is None:
            continue
        _not_an_input(str(path), _stat(path), protect)
        kind = _node_kind(est.st_mode)
        want = "folder" if entry == "charts" else "file"
        if kind == "symbolic link" and force and entry != "charts":
            continue  # replaced by the new file; what it points to is left alone
        if kind != want:
            raise _out_error(str(path), f"is a {kind}, where advisor writes its {entry} {want}",
                             "move it away, or write to another folder"
                             + (" (--force replaces a symbolic link)" if kind == "symbolic link"
                                else ""))
        if entry == "charts":
            for child in os.scandir(path):
                if not (child.is_file(follow_symlinks=False) and child.name.endswith(".png")):
                    raise _out_error(str(Path(path, child.name)),
                                     "is not a chart advisor wrote; advisor replaces the charts "
                                     "folder as a whole", "move it out of charts/")
    return FolderTarget(folder, protect)


class _DeferInterrupt:
    """Hold Ctrl-C for the few renames that swap a set of files in, so the set
    is never left half-swapped; the interrupt is raised when they are done."""

    def __enter__(self) -> "_DeferInterrupt":
        self.pending = False
        self.previous: Any = None
        if threading.current_thread() is threading.main_thread():
            def hold(signum: int, frame: Any) -> None:
                self.pending = True

            self.previous = signal.signal(signal.SIGINT, hold)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.pending:
            raise KeyboardInterrupt


def _stage_files(stage: Path, files: dict[str, bytes]) -> None:
    mode = 0o666 & ~_umask()
    for rel, data in files.items():
        path = stage / rel
        path.parent.mkdir(exist_ok=True)
        with open(path, "xb") as fh:
            fh.write(data)
        os.chmod(path, mode)
    for sub in {stage / rel.split("/")[0] for rel in files if "/" in rel} | {stage}:
        os.chmod(sub, 0o777 & ~_umask())


def write_folder(target: FolderTarget, files: dict[str, bytes]) -> None:
    """Write a set of files (names relative to the folder, at most one level of
    sub-folder) so that the folder holds either the complete new set or the old
    one: the set is written into a temporary folder first, then moved in.
    Entries of :data:`FOLDER_ENTRIES` this run did not produce (stale charts)
    are removed."""
    folder = target.path
    name = str(folder)
    tops = {rel.split("/")[0] for rel in files}
    try:
        if _stat(folder) is None:
            stage = Path(tempfile.mkdtemp(dir=str(folder.parent), prefix=f".{folder.name}."))
            try:
                _stage_files(stage, files)
                with _DeferInterrupt():
                    os.rename(stage, folder)
                return
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
        target = check_folder_target(folder, force=True, protect=target.protect)
        stage = Path(tempfile.mkdtemp(dir=str(folder), prefix=".advisor-new-"))
        old = Path(tempfile.mkdtemp(dir=str(folder), prefix=".advisor-old-"))
        try:
            _stage_files(stage, files)
            moved_out: list[str] = []
            moved_in: list[str] = []
            with _DeferInterrupt():
                try:
                    for entry in FOLDER_ENTRIES:
                        if _lstat(folder / entry) is not None:
                            os.rename(folder / entry, old / entry)
                            moved_out.append(entry)
                    for entry in sorted(tops):
                        os.rename(stage / entry, folder / entry)
                        moved_in.append(entry)
                except BaseException:  # put the old set back
                    for entry in moved_in:
                        os.rename(folder / entry, stage / entry)
                    for entry in moved_out:
                        os.rename(old / entry, folder / entry)
                    raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise _out_error(name, f"cannot write: {exc.strerror or exc}") from None


def write_stdout(data: bytes, *, text: bool = False) -> None:
    """Write to standard output; a closed pipe or a full disk is exit 2. Text
    shown on a terminal has its control characters escaped."""
    try:
        if text and sys.stdout.isatty():
            data = escape_controls(data.decode("utf-8")).encode("utf-8")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except OSError as exc:
        try:  # nothing more can reach this stdout: stop Python flushing it again at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        raise _out_error("<standard output>", f"cannot write: {exc.strerror or exc}") from None
