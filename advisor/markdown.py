"""Markdown from text advisor did not write.

Names, titles, rationales, reasons and citations come from profiles, rule
libraries and catalogs, which may come from others; the Markdown briefing and
the rules reference are rendered by other tools (Git hosts, wikis, static site
generators), some of which pass raw HTML through. :func:`escape` makes such
text inert: no raw HTML (``<script>``), no autolinks (``<javascript:...>``),
no links or images (``[x](...)``). Only the characters that open those are
escaped, so ordinary prose (``GDPR Art. 28(3)``, ``*``, ``_``) reads as before.
Citation URLs are checked when a rule file loads (http or https, a host, no
quotes, spaces or unbalanced parentheses), so they are safe link targets.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\<>\[\]])")


def escape(text: str) -> str:
    """``text`` with the Markdown characters that open HTML, links and images
    backslash-escaped (CommonMark shows them as themselves)."""
    return _SPECIAL.sub(r"\\\1", text)
