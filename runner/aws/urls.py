"""URLs as they may be shown: no credentials, no query values.

A health check's URL may carry ``user:password@`` or a token in its query, and
a URL too malformed to parse may hold either anywhere, so only what is
certainly not secret is shown.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from runner.redact import MASK


def safe_url(url: str) -> str:
    """The URL without userinfo, its query values masked: what may be shown."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<a URL that can't be parsed>"
    if (
        not parts.scheme or not parts.netloc
    ):  # not a URL the check can use; show it without what may be secret
        head = url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
        return head + (f"?{MASK}" if "?" in url else "")
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"
    if parts.query:
        names = [name for name, _value in parse_qsl(parts.query, keep_blank_values=True)]
        shown += "?" + "&".join(f"{name}={MASK}" for name in names)
    return shown
