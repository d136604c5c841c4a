"""Metadata updates as Stripe applies them: given keys are set, a key set to "" is removed, and
`metadata=""` clears everything."""

from __future__ import annotations

from psp_sandbox import params as p


def merged(current: dict[str, str], params: dict) -> dict[str, str]:
    if params.get("metadata") == "":
        return {}
    combined = {**current, **p.metadata(params)}
    return {key: value for key, value in combined.items() if value != ""}
