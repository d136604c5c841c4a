"""Hosts of their own on one machine: a network namespace per host, joined by veth pairs to a bridge in the root
namespace (which holds the shared services: PostgreSQL through a forwarder, Redis, the PSP, the load balancer).
Needs root and iproute2; everything is removed on exit, whatever happened. Traffic never leaves the machine."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field


def available() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Host:
    name: str  # the namespace
    address: str
    veth: str  # its cable's end in the root namespace

    def command(self, args: list[str]) -> list[str]:
        """`args` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.name, *args]

    def pids(self) -> list[int]:
        found = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def crash(self) -> None:
        """The host dies: every process in it is SIGKILLed and its cable is pulled."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _ip("link", "set", self.veth, "down")


@dataclass
class Network:
    bridge: str
    gateway: str  # the root namespace's address on the bridge: where the shared services listen
    hosts: dict[str, Host] = field(default_factory=dict)


@contextlib.contextmanager
def network(names: list[str]) -> Iterator[Network]:
    """A bridge with a /24 of its own and one namespace per name (`web1`, `worker1`…) plugged into it."""
    tag = secrets.token_hex(2)
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(256)}"
    net = Network(f"psbr{tag}", f"{subnet}.1")
    try:
        _ip("link", "add", net.bridge, "type", "bridge")
        _ip("addr", "add", f"{net.gateway}/24", "dev", net.bridge)
        _ip("link", "set", net.bridge, "up")
        for index, name in enumerate(names):
            host = Host(f"ps{tag}-{name}", f"{subnet}.{10 + index}", f"ps{tag}v{index}")
            net.hosts[name] = host
            _ip("netns", "add", host.name)
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
            _ip("link", "set", host.veth, "master", net.bridge)
            _ip("link", "set", host.veth, "up")
            _ip("-n", host.name, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip("-n", host.name, "link", "set", "eth0", "up")
            _ip("-n", host.name, "link", "set", "lo", "up")
        yield net
    finally:
        for host in net.hosts.values():
            with contextlib.suppress(Exception):
                host.crash()
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", host.name], capture_output=True)
        subprocess.run(["ip", "link", "del", net.bridge], capture_output=True)
