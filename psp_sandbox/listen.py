"""`python -m psp_sandbox listen --forward-to URL`: forward every new sandbox event to a local URL, signed
with a secret printed at start, as `stripe listen` does. It polls the sandbox, so it needs no endpoint."""

from __future__ import annotations

import json
import time

import requests

from psp_sandbox.ids import webhook_secret
from psp_sandbox.webhooks import signature_header


def listen(base: str, forward_to: str, secret: str | None, event_filter: str, polls: int | None = None) -> int:
    secret = secret or webhook_secret()
    wanted = {name.strip() for name in event_filter.split(",") if name.strip()}
    http = requests.Session()
    print(f"Ready! Your webhook signing secret is {secret}", flush=True)
    last = _newest(http, base)
    count = 0
    while polls is None or count < polls:
        count += 1
        url = f"{base.rstrip('/')}/_sandbox/events"
        events = http.get(url, params={"after": last or ""}, timeout=10).json()
        for event in events["data"]:
            last = event["id"]
            if "*" in wanted or event["type"] in wanted:
                _forward(http, forward_to, secret, event)
        if not events["data"]:
            time.sleep(0.5)
    return 0


def _newest(http: requests.Session, base: str) -> str | None:
    """Only events created after `listen` started are forwarded."""
    last = None
    while True:
        params: dict[str, str | int] = {"after": last or "", "limit": 500}
        data = http.get(f"{base.rstrip('/')}/_sandbox/events", params=params, timeout=10).json()["data"]
        if not data:
            return last
        last = data[-1]["id"]


def _forward(http: requests.Session, url: str, secret: str, event: dict) -> None:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature_header(secret, body)}
    print(f"--> {event['type']} [{event['id']}]", flush=True)
    try:
        status = http.post(url, data=body, headers=headers, timeout=30).status_code
        print(f"<-- [{status}] POST {url} [{event['id']}]", flush=True)
    except requests.RequestException as exc:
        print(f"<-- [ERROR] POST {url} [{event['id']}]: {exc}", flush=True)
