"""A cache of loaded rule libraries and catalogs, keyed by their content.

Reading and checking the rule library and the catalogs (YAML parsing, schema
validation, condition parsing) is most of what ``advisor evaluate`` spends
before it evaluates anything. The result depends only on the bytes of the
files read, on advisor's own code and on the libraries that build the objects,
so it is kept, pickled, in a user cache folder:

* the key is a SHA-256 over the files' paths and bytes, advisor's version, a
  fingerprint of advisor's source files (path, size, modification time: an
  edited checkout never reads objects its old code built), and the Python,
  pydantic and PyYAML versions. Any change gives a new key; nothing is ever
  "invalidated" in place;
* entries are written to a temporary file and renamed into place, so
  concurrent runs see a whole entry or none; the last writer wins and all
  writers wrote the same thing;
* a folder that cannot be created or written, or an entry that cannot be
  read, is ignored: the files are loaded as if there were no cache;
* an entry is loaded only from a folder that belongs to the current user and
  that nobody else can write (on POSIX), since loading a pickle runs code;
* the folder keeps the :data:`KEEP` most recent entries.

Errors are never cached: a library with mistakes is loaded (and reported)
every time. The folder is ``$ADVISOR_CACHE_DIR`` if set, else the platform's
user cache folder (``~/.cache/advisor`` on Linux); ``ADVISOR_NO_CACHE=1``
turns the cache off. Within one process, the last few loaded objects are also
kept in memory, so a program that loads the same library again gets the same
objects back (and the rule engine compiled for them).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

T = TypeVar("T")

#: Entries kept on disk (oldest deleted first); a few libraries times a few versions.
KEEP = 32
#: Objects kept in memory per process.
KEEP_IN_MEMORY = 8
_SUFFIX = ".pickle"
_memory: "OrderedDict[str, object]" = OrderedDict()
_fingerprint: Optional[str] = None


def cache_dir() -> Optional[Path]:
    """The cache folder, or None when caching is off."""
    if os.environ.get("ADVISOR_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("ADVISOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "advisor" / "Cache" if base else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "advisor"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "advisor"


def code_fingerprint() -> str:
    """advisor's version and the path, size and modification time of each of
    its source files, and the versions of the libraries pickled objects
    depend on. Computed once per process."""
    global _fingerprint
    if _fingerprint is None:
        import pydantic
        import yaml

        from advisor import __version__

        package = Path(__file__).resolve().parent
        h = hashlib.sha256(f"{__version__}\0{sys.version}\0{pydantic.VERSION}\0"
                           f"{yaml.__version__}\0{package}\0".encode())
        for path in sorted(package.rglob("*.py")):
            st = path.stat()
            h.update(f"{path.relative_to(package)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _fingerprint = h.hexdigest()
    return _fingerprint


def content_key(kind: str, files: Iterable[Path], extra: str = "") -> str:
    """The cache key of ``kind`` built from ``files`` (missing files count as absent)."""
    from advisor.errors import InputError
    from advisor.safeio import read_bounded

    h = hashlib.sha256(f"{kind}\0{code_fingerprint()}\0{extra}\0".encode())
    for path in files:
        h.update(f"{path}\0".encode())
        if not os.path.lexists(path):
            h.update(b"\0")
            continue
        try:  # bounded, and read once per run: the load gets the same bytes
            h.update(b"\1" + read_bounded(path, what="file") + b"\0")
        except InputError as exc:  # a device, a FIFO that does not end, too large...:
            # a key no entry has (errors are never stored); the load reports it
            h.update(b"\2" + str(exc).encode() + b"\0")
    return h.hexdigest()


def _trusted(folder: Path) -> bool:
    """On POSIX, only the current user may own and write the folder."""
    if os.name != "posix":
        return True
    st = folder.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _read(folder: Path, key: str) -> object:
    path = folder / f"{key}{_SUFFIX}"
    if not path.is_file() or not _trusted(folder):
        raise LookupError(key)
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _write(folder: Path, key: str, value: object) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _trusted(folder):
        return
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(dir=str(folder), prefix=f".{key}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / f"{key}{_SUFFIX}")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _prune(folder)


def _prune(folder: Path) -> None:
    entries = []
    for p in folder.glob(f"*{_SUFFIX}"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:  # removed meanwhile by another run
            pass
    for _, p in sorted(entries, reverse=True)[KEEP:]:
        p.unlink(missing_ok=True)


def cached(kind: str, files: Iterable[Path], build: Callable[[], T], extra: str = "",
           memory: bool = True) -> T:
    """``build()``'s result for these input files: from memory, from the cache
    folder, or built (and stored) now. ``build`` must depend on nothing but
    the files, advisor's code and ``extra``; exceptions it raises propagate
    and nothing is stored. ``memory=False`` keeps it out of the in-process
    store (for results the caller keeps itself)."""
    key = content_key(kind, files, extra)
    if key in _memory:
        _memory.move_to_end(key)
        return _memory[key]  # type: ignore[return-value]
    folder = cache_dir()
    value: T
    try:
        if folder is None:
            raise LookupError(kind)
        value = _read(folder, key)  # type: ignore[assignment]
    except Exception:  # absent, unreadable, corrupt or from elsewhere: build it
        value = build()
        if folder is not None:
            try:
                _write(folder, key, value)
            except Exception:  # noqa: BLE001 - a cache that cannot be written is no cache
                pass
    if not memory:
        return value
    _memory[key] = value
    while len(_memory) > KEEP_IN_MEMORY:
        _memory.popitem(last=False)
    return value


def yaml_files(*folders: Optional[Path]) -> list[Path]:
    """Every ``*.yaml`` file of the given folders (None skipped), sorted per folder."""
    out: list[Path] = []
    for folder in folders:
        if folder is not None and Path(folder).is_dir():
            out.extend(sorted(Path(folder).glob("*.yaml")))
    return out


# --- pydantic validators ----------------------------------------------------
#
# pydantic builds a model's validator from its type annotations when the
# class is created (or, with ``defer_build``, on first use): for the profile
# and decision models that is most of a cold start's CPU after the imports.
# The result (core schema, validator, serializer) pickles, by reference to the
# model classes and validator functions, so it is cached like the libraries:
# keyed by advisor's code fingerprint and the pydantic version.


def _plugins_off() -> bool:
    """Pydantic plugins wrap validators; the cache is used only without them."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in ("__all__", "1", "true"):
        return True
    from pydantic.plugin._loader import get_plugins

    return not list(get_plugins())


def _cacheable(cls: type) -> bool:
    decorators = getattr(cls, "__pydantic_decorators__", None)
    fields = getattr(cls, "__pydantic_fields__", {})
    return (getattr(cls, "__pydantic_fields_complete__", False)
            and decorators is not None and not decorators.computed_fields
            and not any(f.deprecated for f in fields.values()))


def prepare_models(classes: list[type]) -> None:
    """Give these ``defer_build`` pydantic models their validators and
    serializers from the cache, or build them now (as pydantic would on first
    use) and store them. Any problem with the cache leaves the models to
    pydantic, which builds them when first used."""
    classes = [c for c in classes if not getattr(c, "__pydantic_complete__", False)]
    if not classes:
        return
    names = [f"{c.__module__}.{c.__qualname__}" for c in classes]
    key = content_key("pydantic", [], extra="\0".join(names))
    folder = cache_dir()
    try:
        if folder is None or not all(_cacheable(c) for c in classes) or not _plugins_off():
            return
        try:
            stored = _read(folder, key)
            assert isinstance(stored, list) and len(stored) == len(classes)
        except Exception:  # noqa: BLE001 - absent or unusable: build and store
            for cls in classes:
                cls.model_rebuild()  # type: ignore[attr-defined]
            stored = [(c.__pydantic_core_schema__, c.__pydantic_validator__,  # type: ignore[attr-defined]
                       c.__pydantic_serializer__) for c in classes]  # type: ignore[attr-defined]
            try:
                _write(folder, key, stored)
            except Exception:  # noqa: BLE001 - a cache that cannot be written is no cache
                pass
            return
        for cls, (schema, validator, serializer) in zip(classes, stored):
            # what pydantic's complete_model_class sets, from the same inputs
            cls.__pydantic_core_schema__ = schema  # type: ignore[attr-defined]
            cls.__pydantic_validator__ = validator  # type: ignore[attr-defined]
            cls.__pydantic_serializer__ = serializer  # type: ignore[attr-defined]
            cls.__pydantic_complete__ = True  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - never let the cache break model building
        return
