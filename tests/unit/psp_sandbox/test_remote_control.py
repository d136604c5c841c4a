"""The sandbox's control endpoints answer loopback clients only, unless started with --allow-remote-control;
the API (with an sk_test_ key) and the buyer's payment page answer every client."""

from __future__ import annotations

import base64

import pytest

from psp_sandbox.app import create_app
from psp_sandbox.cli import parser, settings_from
from psp_sandbox.context import Sandbox

KEY = "sk_test_remote_control"


def _client(tmp_path, *flags: str):
    args = parser().parse_args(["serve", "--db", str(tmp_path / "sandbox.db"), *flags])
    sb = Sandbox.open(settings_from(args))
    return create_app(sb).test_client()


def _auth(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.mark.parametrize("remote", ["192.0.2.7", "10.1.2.3", "2001:db8::5", "::ffff:192.0.2.7"])
def test_controls_refuse_other_hosts(tmp_path, remote):
    client = _client(tmp_path)
    env = {"REMOTE_ADDR": remote}
    for method, path in [("get", "/_sandbox/health"), ("post", "/_sandbox/clock/advance"),
                         ("delete", "/_sandbox/faults"), ("get", "/_sandbox/"), ("get", "/_sandbox")]:
        response = getattr(client, method)(path, json={"seconds": 60}, environ_base=env)
        assert response.status_code == 403, (method, path)
        assert "--allow-remote-control" in response.get_json()["error"]["message"]
    assert client.get("/_sandbox/clock").get_json()["offset"] == 0  # the clock did not move


@pytest.mark.parametrize("local", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_controls_answer_loopback(tmp_path, local):
    client = _client(tmp_path)
    response = client.post("/_sandbox/clock/advance", json={"seconds": 60}, environ_base={"REMOTE_ADDR": local})
    assert response.status_code == 200
    assert client.get("/_sandbox/clock").get_json()["offset"] == 60


def test_flag_opens_controls_to_other_hosts(tmp_path):
    client = _client(tmp_path, "--allow-remote-control")
    env = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.post("/_sandbox/clock/advance", json={"seconds": 5}, environ_base=env).status_code == 200
    assert client.get("/_sandbox/clock", environ_base=env).get_json()["offset"] == 5


def test_api_answers_other_hosts_but_only_with_a_test_key(tmp_path):
    client = _client(tmp_path)
    env = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/v1/balance", headers=_auth(KEY), environ_base=env).status_code == 200
    assert client.get("/v1/balance", environ_base=env).status_code == 401
    assert client.get("/v1/balance", headers=_auth("sk_live_abc"), environ_base=env).status_code == 401
