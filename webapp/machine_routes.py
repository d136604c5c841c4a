"""Routes only machines call skip the request hooks that serve browsers.

The PSP's webhook endpoint (blueprint `webhooks`) is called by the PSP alone: no cookie, no form, no signed-in
user. Three hooks that extensions run on every request have nothing to do there: Flask-WTF's CSRF check (the
blueprint is exempt, but finding that out runs on every request), Flask-Login's remember-me cookie refresh (it
reads the session, which also marks the answer `Vary: Cookie`) and Flask-Limiter's rate-limit headers (no limit
applies there). Together they cost ~50 µs of a ~500 µs webhook (docs/performance.md). Every other hook runs on
every request: the input guard, the request id, the log line and metrics, the security headers.

The hooks are recognised by what the pinned extensions register. If one is not found (an upgrade renamed it),
the app refuses to start rather than guess.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, request

MACHINE_BLUEPRINTS = frozenset({"webhooks"})


def _csrf_check(hook: Callable[..., Any]) -> bool:
    return getattr(hook, "__qualname__", "") == "CSRFProtect.init_app.<locals>.csrf_protect"


def _remember_cookie(hook: Callable[..., Any]) -> bool:
    return getattr(hook, "__name__", "") == "_update_remember_cookie"


def _limit_headers(hook: Callable[..., Any]) -> bool:
    return isinstance(hook, functools.partial) and hook.func.__name__.endswith("__inject_headers")


def _for_browsers(hook: Callable[..., Any], *, after: bool) -> Callable[..., Any]:
    def hook_for_browsers(*args: Any) -> Any:
        if request.blueprint in MACHINE_BLUEPRINTS:
            return args[0] if after else None  # an after-request hook hands the response on unchanged
        return hook(*args)

    hook_for_browsers.browser_hook = hook  # type: ignore[attr-defined]
    return hook_for_browsers


def _wrap(hooks: list[Callable[..., Any]], found: Callable[[Callable[..., Any]], bool], name: str, *,
          after: bool) -> None:
    matches = [index for index, hook in enumerate(hooks) if found(hook)]
    if len(matches) != 1:
        raise RuntimeError(f"{name}: expected one such request hook, found {len(matches)} (an extension changed?)")
    hooks[matches[0]] = _for_browsers(hooks[matches[0]], after=after)


def skip_browser_hooks(app: Flask) -> None:
    """Call once the extensions are registered."""
    _wrap(app.before_request_funcs[None], _csrf_check, "Flask-WTF's CSRF check", after=False)
    _wrap(app.after_request_funcs[None], _remember_cookie, "Flask-Login's remember-me cookie", after=True)
    _wrap(app.after_request_funcs[None], _limit_headers, "Flask-Limiter's headers", after=True)
