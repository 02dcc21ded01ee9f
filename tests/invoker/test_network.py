"""A function's network: from inside a real sandbox on the real worker, nothing of the host answers but
Kiln's endpoint and its own Runtime API; other hosts answer with network "outbound" only.

"Another host" is a network namespace this test makes (``ip netns add`` and a veth pair with addresses
of its own), so no traffic leaves this machine. Every other address probed is one of the host's own.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from invoker import network
from invoker.sandbox import sandbox_mode
from tests.conftest import WORKER_KILN_PORT, invoke

needs_netns = pytest.mark.skipif(sandbox_mode() != "bwrap" or not network.own_namespaces()[0], reason="needs bubblewrap and a root worker")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker"), needs_netns]

SERVICES = {5432: "PostgreSQL", 6379: "Redis", 5672: "RabbitMQ", 3306: "MariaDB", 1883: "Mosquitto", 4222: "NATS"}

PROBE = r'''
import errno, os, socket, struct, time, urllib.request

def gateway():
    for line in open("/proc/net/route").read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == "00000000":
            return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
    return None

def own_address():
    gw = gateway()
    if gw is None:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((gw, 9))  # UDP: no packet is sent
        return probe.getsockname()[0]

def probe(host, port, timeout):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as exc:
        return "error:" + errno.errorcode.get(exc.errno, str(exc.errno))
    try:
        sock.settimeout(1.0)
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = sock.recv(200)
    except socket.timeout:
        return "silent"  # accepted, said nothing
    except OSError as exc:
        return "closed:" + type(exc).__name__  # accepted, then reset
    finally:
        sock.close()
    return "answered:" + data.decode("latin-1") if data else "closed"

def handler(event, context):
    kind = event["kind"]
    if kind == "whereami":
        return {"gateway": gateway(), "address": own_address(), "api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
    if kind == "probe":
        targets = [(gateway() if h == "gateway" else h, p) for h, p in event["targets"]]
        targets = [(h, p) for h, p in targets if h]
        # Side by side: a host with many listening ports (other sessions' servers) must not add up to the timeout.
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=32) as pool:
            outcomes = list(pool.map(lambda t: probe(t[0], t[1], event.get("timeout", 2.0)), targets))
        return {f"{h}:{p}": outcome for (h, p), outcome in zip(targets, outcomes)}
    if kind == "http":
        try:
            with urllib.request.urlopen(event["url"], timeout=5) as response:
                return {"status": response.status, "body": response.read().decode()}
        except OSError as exc:
            return {"error": str(exc)}
    if kind == "sleep":
        time.sleep(event["seconds"])
        return "slept"
'''


def _make(api, name: str, **config) -> str:
    body = {"name": name, "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": PROBE}}, "timeout": 60, **config}
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 201, response.content
    return name


def _host_listening_ports() -> set[int]:
    """Every TCP port listening on the host, on any address (read on the host side)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _host_addresses() -> list[str]:
    """The host's own addresses (IPv4 and global IPv6): traffic to them never leaves this machine."""
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        family, address = fields[2], fields[3].split("/")[0]
        if family == "inet" or (family == "inet6" and not address.startswith("fe80")):
            found.append(address)
    return found


class _Endpoint(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"kiln-endpoint"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[int]:
    """A stand-in for Kiln's web port on the port the test worker forwards into sandboxes."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", WORKER_KILN_PORT), _Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield WORKER_KILN_PORT
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def another_host() -> Iterator[tuple[str, int]]:
    """Another host: a namespace of this test's own behind a veth pair, with a TCP server on it."""
    if not shutil.which("ip"):
        pytest.skip("needs iproute2")
    tag = os.getpid() % 10000
    name, veth, subnet = f"kiln-test-host-{tag}", f"kth{tag}", f"10.250.{tag % 250}"
    commands = [["ip", "netns", "add", name], ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name],
                ["ip", "addr", "add", f"{subnet}.1/24", "dev", veth], ["ip", "link", "set", veth, "up"],
                ["ip", "-n", name, "addr", "add", f"{subnet}.2/24", "dev", "eth0"], ["ip", "-n", name, "link", "set", "eth0", "up"],
                ["ip", "-n", name, "link", "set", "lo", "up"]]
    script = ("import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
              f"s.bind(('{subnet}.2', 7777)); s.listen(16)\nwhile True:\n    c, a = s.accept(); c.sendall(('hello from ' + a[0]).encode()); c.close()\n")
    server = None
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)
        server = subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", script])
        time.sleep(0.5)
        yield f"{subnet}.2", 7777
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", veth], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture(scope="module")
def other_host() -> Iterator[tuple[str, int]]:
    with another_host() as address:
        yield address


def _closed(outcome: str) -> bool:
    """Nothing answered: refused, reset, unreachable, or accepted and closed without a word."""
    return outcome in ("refused", "closed", "timeout") or outcome.startswith(("error:", "closed:"))


def test_nothing_on_the_host_answers_but_kiln_endpoint(api, endpoint, other_host):
    fn = _make(api, "prober")
    ports = sorted(_host_listening_ports() | set(SERVICES))
    addresses = ["127.0.0.1", "gateway", *_host_addresses()]
    targets = [[address, port] for address in addresses for port in ports if port != endpoint]
    results = invoke(api, fn, {"kind": "probe", "targets": targets, "timeout": 2.0}).json()
    assert len(results) >= len(ports) * 2, results
    answered = {target: outcome for target, outcome in results.items() if not _closed(outcome)}
    assert not answered, answered
    for port, service in SERVICES.items():
        assert results[f"127.0.0.1:{port}"] == "refused", (service, results[f"127.0.0.1:{port}"])
    # Kiln's endpoint is there, at the address the function knows, and answers.
    assert invoke(api, fn, {"kind": "http", "url": f"http://127.0.0.1:{endpoint}/"}).json() == {"status": 200, "body": "kiln-endpoint"}
    # Another host (this test's own namespace) answers: outbound is on by default.
    host, port = other_host
    outcome = invoke(api, fn, {"kind": "probe", "targets": [[host, port]]}).json()[f"{host}:{port}"]
    assert outcome.startswith("answered:hello from 10.250."), outcome  # masqueraded as the host's address on that link


def test_another_busy_environments_runtime_api_is_unreachable(api, client):
    busy, prober = _make(api, "busy"), _make(api, "prober2")
    where_busy = invoke(api, busy, {"kind": "whereami"}).json()
    assert where_busy["api"] == "127.0.0.1:9001", where_busy  # Lambda's address, inside its own namespace
    accepted = invoke(api, busy, {"kind": "sleep", "seconds": 4}, invocation_type="Event")
    assert accepted.status_code == 202
    time.sleep(0.5)  # it is now waiting in its handler, its Runtime API's next request outstanding
    targets = [[where_busy["address"], 9001], [where_busy["address"], WORKER_KILN_PORT], [where_busy["gateway"], 9001], ["127.0.0.1", 9001]]
    results = invoke(api, prober, {"kind": "probe", "targets": targets}).json()
    for target, outcome in results.items():
        assert _closed(outcome), (target, outcome)  # 127.0.0.1:9001 is the prober's own API: closed, it serves its runtime only
    # From the host, no environment's Runtime API is on the host's loopback either.
    if 9001 not in _host_listening_ports():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", 9001), timeout=2).close()


def test_network_none_reaches_only_the_runtime_api(api, endpoint, other_host):
    fn = _make(api, "hermit", network="none")
    assert api.get("/api/v1/functions/hermit/").json()["network"] == "none"
    host, port = other_host
    targets = [["127.0.0.1", endpoint], [host, port], *[["127.0.0.1", p] for p in SERVICES], *[[a, 22] for a in _host_addresses()]]
    results = invoke(api, fn, {"kind": "probe", "targets": targets}).json()
    assert results[f"{host}:{port}"] == "error:ENETUNREACH", results
    assert all(_closed(outcome) for outcome in results.values()), results
    assert invoke(api, fn, {"kind": "whereami"}).json()["gateway"] is None
    assert "error" in invoke(api, fn, {"kind": "http", "url": f"http://127.0.0.1:{endpoint}/"}).json()


def test_provided_runtime_with_network_none_still_has_its_runtime_api(api):
    from tests.invoker.test_provided_runtime import SHELL_BOOTSTRAP, _zip

    body = {"name": "shell-none", "runtime": "provided.al2023", "handler": "function.handler", "network": "none",
            "code": {"zip_base64": _zip({"bootstrap": SHELL_BOOTSTRAP.encode()}, {"bootstrap"})}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    assert invoke(api, "shell-none", {"n": 1}).json() == {"shell": True, "event": {"n": 1}}


def test_prewarmed_runtimes_are_isolated_the_same(api):
    """The second cold start of a kind takes a runtime started ahead of need; it sees no more."""
    first, second = _make(api, "pre-a", network="none", memory_size=256), _make(api, "pre-b", network="none", memory_size=256)
    assert invoke(api, first, {"kind": "whereami"}).json()["gateway"] is None
    time.sleep(1.0)  # the spare for this kind starts once the first cold start is done
    results = invoke(api, second, {"kind": "probe", "targets": [["127.0.0.1", p] for p in SERVICES]}).json()
    assert all(outcome == "refused" for outcome in results.values()), results
    from invoker.redis_client import get_redis

    deadline = time.time() + 8
    while time.time() < deadline:  # the worker's heartbeat lists its environments every 5 s
        envs = [e for key in get_redis().scan_iter(match="kiln:worker:*") for e in json.loads(get_redis().get(key) or "{}").get("environments", [])]
        mine = [e for e in envs if e["function"] == second]
        if mine:
            assert mine[0]["prewarmed"], mine
            return
        time.sleep(0.5)
    raise AssertionError("the environment never showed in the worker's heartbeat")


def test_healthz_says_which_network_isolation_is_in_force(client):
    checks = client.get("/healthz").json()["checks"]
    sandbox_check = checks["sandbox"]
    assert sandbox_check["isolated"] is True and "warning" not in sandbox_check
    assert sandbox_check["network"]["isolation"] == "netns" and sandbox_check["network"]["egress"] is True, sandbox_check
    # The worker's own view, in its heartbeat (what the environments page lists per worker).
    worker = checks["workers"]["details"][0]["sandbox"]
    assert worker["network"]["isolation"] == "netns" and worker["network"]["egress"] is True, worker
    assert worker["network"]["endpoint"] == f"127.0.0.1:{WORKER_KILN_PORT}"
    assert worker["tmp"]["backing"] == ("disk" if os.geteuid() == 0 else "tmpfs"), worker


def test_network_is_validated(api):
    body = {"name": "wifi", "runtime": "python3.11", "handler": "index.handler", "code": {"files": {"index.py": PROBE}}, "network": "wifi"}
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["field"] == "network" and "outbound" in error["message"] and "none" in error["message"], error
    _make(api, "switch")
    assert api.patch("/api/v1/functions/switch/", {"network": "none"}, format="json").json()["network"] == "none"
    assert api.patch("/api/v1/functions/switch/", {"network": 3}, format="json").status_code == 400


def test_a_form_without_the_network_field_keeps_it(api):
    from functions.models import Function
    from functions.services import function_update, revision_config

    _make(api, "kept", network="none")
    function = Function.objects.get(name="kept")
    changes = {**vars(revision_config(function.latest)), "memory_size": 256, "network": None}  # what the console sends
    function_update(function=function, changes=changes)
    function.refresh_from_db()
    assert function.latest.memory_size == 256 and function.latest.network == "none"
