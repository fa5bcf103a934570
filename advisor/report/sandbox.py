"""Running report templates someone else wrote (``--templates DIR``).

A template folder is input advisor did not write. It must not read files,
reach the network, change the decision or exhaust the machine:

* :class:`FolderLoader` serves only regular files inside the folder, read
  through the bounded reader; symbolic links and paths leaving the folder are
  refused (``{% include "passwd.txt" %}`` with ``passwd.txt -> /etc/passwd``);
* :class:`LimitedSandbox` is Jinja's *immutable* sandbox (no ``dict.update``,
  no ``list.append``, no private attributes) with limits on what one operation
  may build: string and list repetition and concatenation, exponentiation,
  ``%`` formatting widths, ``range`` and width-taking filters and methods;
* :func:`render_limited` renders with a time budget (:data:`TIME_BUDGET_S`),
  a memory budget (:data:`MEMORY_BUDGET_BYTES`, Linux) and a cap on the output
  (:data:`MAX_OUTPUT_CHARS`); recursion, runaway loops and every other failure
  of a user template are exit 2, naming the template.

Templates are given a copy of the decision (see :mod:`advisor.report.render`),
and the JSON output is rendered before any template runs.

The bundled templates are advisor's own code: they use a plain environment,
but the same URL fetcher (nothing is fetched, see :func:`url_fetcher`).
"""

from __future__ import annotations

import contextlib
import math
import operator
import os
import re
import signal
import stat
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from advisor.errors import AdvisorError, InputError, shorten
from advisor.safeio import read_bounded

#: Longest string or list one template operation may build (characters/items).
MAX_STRING = 4 * 1024 * 1024
#: Longest rendered output (characters): a briefing is a few hundred KB.
MAX_OUTPUT_CHARS = 16 * 1024 * 1024
#: Longest range() a template may loop over.
MAX_RANGE = 100_000
#: Largest result of ``**``, in bits.
MAX_POWER_BITS = 4096
#: Wall-clock budget of one template rendering, in seconds.
TIME_BUDGET_S = 20.0
#: Memory one template rendering may add to the process (Linux).
MEMORY_BUDGET_BYTES = 1 << 30
#: Largest template file.
MAX_TEMPLATE_BYTES = 1024 * 1024


class TemplateLimit(Exception):
    """A user template exceeded a limit (turned into exit 2 by the renderer)."""


class FolderLoader(jinja2.BaseLoader):
    """Templates from one folder: regular files inside it, no symbolic links."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(os.path.realpath(folder))  # the folder itself may be a link

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..'
        path = self.folder
        for piece in pieces:
            path = path / piece
            try:
                st = os.lstat(path)
            except OSError:
                raise jinja2.TemplateNotFound(template) from None
            if stat.S_ISLNK(st.st_mode):
                raise InputError.single(str(path), "is a symbolic link; templates are read only "
                                                   "from regular files inside the template folder",
                                        hint="copy the file into the folder instead")
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise InputError.single(str(path), "is not a regular file",
                                    hint="a template is a text file inside the template folder")
        raw = read_bounded(path, what="template", limit=MAX_TEMPLATE_BYTES)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError.single(str(path), f"template is not UTF-8 text (byte {exc.start})") \
                from None
        return source, str(path), lambda: True  # nothing changes during a run


def _limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimit(f"range of {len(rng):,} items (the limit is {MAX_RANGE:,})")
    return rng


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _check_size(value: Any, what: str) -> Any:
    n = _size(value)
    if n is not None and n > MAX_STRING:
        raise TemplateLimit(f"{what} built {n:,} characters or items (the limit is {MAX_STRING:,})")
    return value


_WIDTH = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d{7,})")


def _check_percent_format(fmt: str) -> None:
    for width, precision in _WIDTH.findall(fmt):
        for part in (width, precision):
            if part == "*" or (part and int(part) > MAX_STRING):
                raise TemplateLimit(f"'%' format width {shorten(part)} is not allowed")


def _repeat(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        n = _size(seq)
        if n is not None and isinstance(count, int) and n * max(count, 0) > MAX_STRING:
            raise TemplateLimit(f"repeating {n:,} items {count:,} times "
                                f"(the limit is {MAX_STRING:,})")
    return left * right


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if right * math.log2(abs(left)) > MAX_POWER_BITS:
            raise TemplateLimit(f"{shorten(left)} ** {shorten(right)} is too large")
    try:
        return left ** right
    except OverflowError:
        raise TemplateLimit(f"{shorten(left)} ** {shorten(right)} overflows") from None


def _add(left: Any, right: Any) -> Any:
    a, b = _size(left), _size(right)
    if a is not None and b is not None and a + b > MAX_STRING:
        raise TemplateLimit(f"joining {a:,} and {b:,} items (the limit is {MAX_STRING:,})")
    return left + right


def _mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_percent_format(left)
        return _check_size(left % right, "'%' formatting")
    return left % right


#: str methods that take a width or a count and can build a huge string
_WIDE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace",
                           "join", "format", "format_map"})


#: filters whose numeric argument is a width or a count of pieces to build
_WIDE_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


def _limit_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    # filters marked pass_context/pass_environment get that object first
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0

    def limited(*args: Any, **kwargs: Any) -> Any:
        values = args[skip:]
        if name in _WIDE_FILTERS:
            for value in (*values[1:], *kwargs.values()):
                if isinstance(value, int) and not isinstance(value, bool) and value > MAX_STRING:
                    raise TemplateLimit(f"filter '{name}' given {value:,} "
                                        f"(the limit is {MAX_STRING:,})")
        text = values[0] if values and isinstance(values[0], str) else None
        if name == "format" and text is not None:
            _check_percent_format(text)
        if name == "indent" and text is not None:
            width = values[1] if len(values) > 1 else kwargs.get("width", 4)
            extra = len(width) if isinstance(width, str) else int(width)
            if extra * (text.count("\n") + 1) > MAX_STRING:
                raise TemplateLimit("filter 'indent' would build too much text")
        if name == "replace" and text is not None and len(values) >= 3 \
                and isinstance(values[1], str) and isinstance(values[2], str):
            grown = text.count(values[1]) * max(len(values[2]) - len(values[1]), 0)
            if len(text) + grown > MAX_STRING:
                raise TemplateLimit("filter 'replace' would build too much text")
        return _check_size(func(*args, **kwargs), f"filter '{name}'")

    if skip:
        limited.jinja_pass_arg = func.jinja_pass_arg  # type: ignore[attr-defined]
    return limited


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with limits on what one operation may build."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _limited_range
        self.globals.pop("lipsum", None)  # lipsum(n=10**9) would write forever
        self.binop_table = {**self.binop_table, "*": _repeat, "**": _power, "+": _add,
                            "%": _mod, "//": operator.floordiv}

    def wrap_filters(self) -> None:
        """Put the size limits around every filter (call after adding filters)."""
        self.filters = {name: _limit_filter(name, f) for name, f in self.filters.items()}

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") in _WIDE_METHODS:
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and not isinstance(value, bool) and value > MAX_STRING:
                    raise TemplateLimit(f"str.{__obj.__name__} given {value:,}")
            if __obj.__name__ in ("format", "format_map") and _FORMAT_WIDTH.search(owner):
                raise TemplateLimit("format width is too large")
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_size(result, "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` (Jinja >= 3.1.5 wraps it when the attribute is read)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            if _FORMAT_WIDTH.search(fmt):
                raise TemplateLimit("format width is too large")
            return _check_size(wrapped(*args, **kwargs), "str.format")  # type: ignore[no-any-return]

        return checked

    def format_string(self, s: str, args: Any, kwargs: Any,  # Jinja < 3.1.5
                      format_func: Any = None) -> str:
        if _FORMAT_WIDTH.search(s):
            raise TemplateLimit("format width is too large")
        return _check_size(super().format_string(s, args, kwargs, format_func),  # type: ignore[misc]
                           "str.format")


# ------------------------------------------------------------------ budgets ----

class _OutOfTime(BaseException):
    """Raised by the alarm inside a rendering (a BaseException, so template
    code cannot swallow it)."""


@contextlib.contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread on POSIX; elsewhere
    the operation limits still apply, but there is no clock)."""
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer")):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _memory_budget(extra: int) -> Iterator[None]:
    """Cap the process's address space at its current size plus ``extra``
    while the block runs (Linux), so a runaway template gets MemoryError
    instead of the machine's memory."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        yield
        return
    want = used + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft != resource.RLIM_INFINITY and soft <= want:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _collect(chunks: Iterator[str]) -> str:
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"output over {MAX_OUTPUT_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


def render_limited(template: jinja2.Template, name: str, context: dict[str, Any]) -> str:
    """Render a user template within the budgets; any failure is exit 2
    naming the template."""
    try:
        with _memory_budget(MEMORY_BUDGET_BYTES), _time_budget(TIME_BUDGET_S):
            return _collect(template.generate(**context))
    except AdvisorError:
        raise
    except _OutOfTime:
        problem = f"took longer than {TIME_BUDGET_S:g} s to render"
    except TemplateLimit as exc:
        problem = f"exceeds a sandbox limit: {exc}"
    except MemoryError:
        problem = f"needs more than {MEMORY_BUDGET_BYTES >> 20:,} MiB of memory to render"
    except RecursionError:
        problem = "recurses without end (an include or macro that calls itself)"
    except jinja2.exceptions.SecurityError as exc:
        problem = f"refused by the sandbox: {exc}"
    except jinja2.TemplateNotFound as exc:
        problem = f"uses template '{shorten(exc.name)}', which is not in the template folder"
    except jinja2.TemplateSyntaxError as exc:  # in an included template
        raise InputError.single(exc.filename or name, f"template error: {exc.message}",
                                line=exc.lineno) from None
    except jinja2.TemplateError as exc:
        problem = f"template error: {exc}"
    except Exception as exc:  # noqa: BLE001 - a user template failing is bad input, not a bug
        problem = f"failed: {type(exc).__name__}: {shorten(exc, 200)}"
    raise InputError.single(name, problem)


# -------------------------------------------------------------- fetching ----

def url_fetcher(refused: list[str]) -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URIs only (the report
    embeds its CSS and charts): no ``file:``, no network. Refused URLs are
    appended to ``refused`` so the caller can say which."""
    import weasyprint

    def allowed(url: str) -> bool:
        if url.lower().startswith("data:"):
            return True
        refused.append(url)
        return False

    base = getattr(getattr(weasyprint, "urls", None), "URLFetcher", None)
    if base is not None:  # WeasyPrint >= 68: a fetcher class
        class _DataOnly(base):  # type: ignore[misc, valid-type]
            def fetch(self, url: str, headers: Any = None) -> Any:
                if not allowed(url):
                    raise ValueError(f"advisor fetches nothing: {url}")
                return super().fetch(url, headers)

        return _DataOnly(allowed_protocols={"data"}, allow_redirects=False)

    def fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> Any:
        if not allowed(url):
            raise ValueError(f"advisor fetches nothing: {url}")
        return weasyprint.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)

    return fetch


#: Content-Security-Policy of the HTML report: it loads nothing from anywhere
#: (inline styles and data: images only), so a browser opening it fetches
#: nothing either, whatever a template wrote.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "form-action 'none'; base-uri 'none'")
_CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def add_csp(html: str) -> str:
    """The HTML with the policy as the first element of its head."""
    head = re.search(r"<head\b[^>]*>", html, re.I)
    if head:
        return html[:head.end()] + "\n" + _CSP_META + html[head.end():]
    doctype = re.match(r"\s*<!doctype[^>]*>", html, re.I)
    at = doctype.end() if doctype else 0
    return html[:at] + "\n" + _CSP_META + html[at:]
