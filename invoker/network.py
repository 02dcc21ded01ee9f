"""Network namespaces for sandboxes: a function reaches its Runtime API, Kiln's endpoint, other hosts.

A worker run as root gives every bubblewrap sandbox a network namespace of its own, made by the worker
(``unshare(CLONE_NEWNET)`` on one thread, kept alive by an open namespace fd) rather than by bubblewrap,
so the worker can put sockets into it: the thread that starts the sandbox enters the namespace
(``entered``: ``setns``, microseconds), binds the Runtime API's listener at ``127.0.0.1:9001`` inside
(as on Lambda), opens the connection Kiln's bootstraps inherit, binds the endpoint listener that
``invoker/netproxy.py`` forwards to Kiln's web port, and forks bubblewrap (``--share-net``: it keeps the
namespace it was started in), then leaves again. Inside there is nothing else: not the host's loopback
(PostgreSQL, Redis, ...), not another environment's Runtime API.

Two kinds, made ahead of need by a background thread (a few of each kind in use), so a cold start only
takes one (measured in docs/benchmarks.md, 2026-12-01):
- ``local``: the loopback interface only (network ``none``, or egress denied by ``KILN_SANDBOX_EGRESS``).
- ``outbound``: also a veth pair, ``eth0`` inside and ``kv<N>`` on the host, a /30 out of
  ``10.213.0.0/16`` and a default route via the host. The host's nftables table ``kiln_sandbox``
  rejects everything from ``kv*`` addressed to the host itself (any of its addresses, IPv4 and IPv6,
  answered with a reset so a probe fails at once), to another sandbox or to link-local addresses
  (cloud metadata), and masquerades the rest out of the host's own interfaces.
A namespace dies with its last process and fd, its veth pair with it: nothing to clean up after a crash.

Without root (no namespace of Kiln's own), bubblewrap makes the namespace (``--unshare-net``): isolated
the same, but without the endpoint or egress, and ``provided`` runtimes cannot reach the Runtime API.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import logging
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from invoker import netproxy

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
LOCAL, OUTBOUND = "local", "outbound"
SUBNET = "10.213.0.0/16"
SLOTS = 1 << 14  # /30 subnets in SUBNET
POOL_SIZE = 2  # namespaces kept ready per kind in use
REFILL_DELAY_S = 0.05  # after a take: the cold start that took one goes first (~4 ms of `ip` per veth pair)
RUNTIME_API_PORT = 9001  # Lambda's AWS_LAMBDA_RUNTIME_API is 127.0.0.1:9001
NFT_TABLE = "kiln_sandbox"
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns: {os.strerror(error)}")


@functools.cache
def _host_fd() -> int:
    """The worker's own network namespace (the process's first thread never leaves it)."""
    return os.open(f"/proc/{os.getpid()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)


_host_fd()  # now, on the importing (main) thread: the one namespace no thread of Kiln's has left


@dataclass
class Netns:
    """A network namespace, alive while ``fd`` is open (and while processes run in it)."""

    fd: int
    kind: str
    veth: str = ""  # the host's end of the veth pair (outbound)
    address: str = ""  # the sandbox's address (outbound)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def entered(ns: Netns | None) -> Iterator[None]:
    """Run the block on this thread inside ``ns`` (no-op for None). Sockets made and processes forked
    in the block belong to ``ns``; threads started in it would too, so start none there."""
    if ns is None:
        yield
        return
    host = _host_fd()
    _setns(ns.fd)
    try:
        yield
    finally:
        _setns(host)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0)))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _ip(commands: str, pass_fds: tuple[int, ...] = ()) -> None:
    result = subprocess.run(["ip", "-batch", "-"], input=commands.encode(), capture_output=True, timeout=10, pass_fds=pass_fds)
    if result.returncode != 0:
        raise OSError(f"ip: {result.stderr.decode(errors='replace').strip()}")


def _slot_addresses(slot: int) -> tuple[str, str]:
    base = slot * 4
    prefix = f"10.213.{base >> 8}."
    return prefix + str((base & 255) + 1), prefix + str((base & 255) + 2)


def create(kind: str) -> Netns:
    """A new namespace of ``kind``; ``outbound`` wires its veth pair (~4 ms: two ``ip`` runs)."""
    host = _host_fd()
    ns: Netns | None = None
    try:
        if _libc.unshare(CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"unshare(CLONE_NEWNET): {os.strerror(error)}")
        ns = Netns(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC), kind)
        _loopback_up()
        if kind == OUTBOUND:
            for _ in range(8):
                slot = random.randrange(SLOTS)
                gateway, address = _slot_addresses(slot)
                try:  # the host-side name is the lock on the slot, across workers on one host
                    _ip(f"link add eth0 type veth peer name kv{slot} netns /proc/self/fd/{host}\n", (host,))
                except OSError as exc:
                    if "exists" in str(exc):
                        continue
                    raise
                break
            else:
                raise OSError("no free sandbox subnet slot")
            ns.veth, ns.address = f"kv{slot}", address
            _ip(f"addr add {address}/30 dev eth0\nlink set eth0 up\nroute add default via {gateway}\n")
            _setns(host)
            _ip(f"addr add {gateway}/30 dev kv{slot}\nlink set kv{slot} up\n")
    except BaseException:
        _setns(host)
        if ns is not None:
            ns.close()
        raise
    _setns(host)
    return ns


@functools.cache
def own_namespaces() -> tuple[bool, str]:
    """Whether this worker can make namespaces itself (root), with the reason if not."""
    if os.geteuid() != 0:
        return False, "Kiln is not root: bubblewrap makes each sandbox's network namespace (no endpoint, no egress)"
    result: list[tuple[bool, str]] = []

    def probe() -> None:  # a thread of its own: a failure midway leaves no other thread elsewhere
        try:
            create(LOCAL).close()
            result.append((True, "own network namespace per sandbox"))
        except OSError as exc:
            result.append((False, f"cannot make network namespaces: {exc}"))

    thread = threading.Thread(target=probe, name="kiln-netns-probe")
    thread.start()
    thread.join()
    return result[0]


def egress_wanted() -> bool:
    value = str(settings.KILN_SANDBOX_EGRESS).lower()
    if value not in ("allow", "deny"):
        log.warning("KILN_SANDBOX_EGRESS=%r is neither allow nor deny: egress denied", value)
    return value == "allow"


_NFT_RULES = """
table inet {table} {{
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "kv*" meta l4proto tcp reject with tcp reset
    iifname "kv*" reject with icmpx admin-prohibited
  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "kv*" oifname "kv*" reject with icmpx admin-prohibited
    iifname "kv*" ip daddr {{ {subnet}, 169.254.0.0/16 }} reject with icmpx admin-prohibited
    iifname "kv*" ip6 daddr fe80::/10 reject with icmpx admin-prohibited
    iifname "kv*" accept
    oifname "kv*" ct state established,related accept
    oifname "kv*" drop
    {others}
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr {subnet} oifname != "kv*" masquerade
  }}
}}
"""


@functools.cache
def egress_status() -> tuple[bool, str]:
    """Set the host up for sandbox egress once (nftables table, IPv4 forwarding); whether it works."""
    if not egress_wanted():
        return False, "denied by KILN_SANDBOX_EGRESS=deny"
    ok, reason = own_namespaces()
    if not ok:
        return False, reason
    nft = shutil.which("nft")
    if not nft:
        return False, "nftables (nft) is not installed; install the Debian package 'nftables'"
    listed = subprocess.run([nft, "list", "table", "inet", NFT_TABLE], capture_output=True, text=True)
    others_rule = 'iifname != "kv*" oifname != "kv*" drop'
    if listed.returncode == 0:
        was_off = others_rule in listed.stdout  # as Kiln found it when it first made the table
    else:
        try:
            was_off = open("/proc/sys/net/ipv4/ip_forward").read().strip() != "1"
        except OSError:
            was_off = True
    # Forwarding was off: Kiln turns it on for its sandboxes only, and keeps it off for the rest.
    rules = _NFT_RULES.format(table=NFT_TABLE, subnet=SUBNET, others=others_rule if was_off else "")
    # Made anew each start (the rules of this version of Kiln), in one transaction.
    script = f"table inet {NFT_TABLE} {{}}\ndelete table inet {NFT_TABLE}\n{rules}"
    result = subprocess.run([nft, "-f", "-"], input=script.encode(), capture_output=True)
    if result.returncode != 0:
        return False, f"nftables refused Kiln's rules: {result.stderr.decode(errors='replace').strip()}"
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as handle:
            handle.write("1")
    except OSError as exc:
        return False, f"cannot turn on IPv4 forwarding: {exc}"
    return True, f"to other hosts through {SUBNET} (nftables table inet {NFT_TABLE}: never this host)"


class NetnsPool:
    """Namespaces made ahead of need, ``POOL_SIZE`` per kind asked for, refilled in the background."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[str, list[Netns]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, kind: str) -> Netns:
        with self._lock:
            ready = self._ready.setdefault(kind, [])
            ns = ready.pop() if ready else None
            self._start()
        self._wake.set()
        return ns if ns is not None else create(kind)

    def want(self, kind: str) -> None:
        with self._lock:
            self._ready.setdefault(kind, [])
            self._start()
        self._wake.set()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._refill, name="kiln-netns", daemon=True)
            self._thread.start()

    def _refill(self) -> None:
        while True:
            self._wake.wait(timeout=30)
            time.sleep(REFILL_DELAY_S)
            self._wake.clear()
            with self._lock:
                missing = [kind for kind, ready in self._ready.items() for _ in range(POOL_SIZE - len(ready))]
            for kind in missing:
                try:
                    ns = create(kind)
                except OSError:
                    log.exception("could not make a %s network namespace ahead of need", kind)
                    break
                with self._lock:
                    self._ready[kind].append(ns)

    def ready_count(self) -> int:
        with self._lock:
            return sum(len(r) for r in self._ready.values())


_pool = NetnsPool()


def kind_for(network: str) -> str:
    """The namespace a function with this ``network`` setting gets."""
    return OUTBOUND if network == "outbound" and egress_status()[0] else LOCAL


@dataclass
class SandboxNetwork:
    """What one sandbox gets: its namespace (None: none of Kiln's), its Runtime API listener, and
    Kiln's endpoint listener in it (None with network "none")."""

    netns: Netns | None
    listener: socket.socket
    endpoint: socket.socket | None = None

    def close(self) -> None:
        if self.endpoint is not None:
            netproxy.drop(self.endpoint)
            self.endpoint = None
        if self.netns is not None:
            self.netns.close()  # the namespace (and its veth pair) goes with its last process
            self.netns = None


def open_for(network: str, *, isolated: bool) -> SandboxNetwork:
    """A sandbox's network for a function with this ``network`` setting: in its own namespace when
    ``isolated`` and Kiln can make them, the Runtime API at Lambda's 127.0.0.1:9001 there."""
    from invoker.runtime_api import make_listener

    ns = acquire(network) if isolated else None
    try:
        with entered(ns):
            opened = SandboxNetwork(ns, make_listener(RUNTIME_API_PORT if ns else 0))
            if ns is not None and network != "none":
                opened.endpoint = netproxy.listen()
    except BaseException:
        if ns is not None:
            ns.close()
        raise
    if opened.endpoint is not None:
        netproxy.serve(opened.endpoint)  # its selector thread runs outside the namespace
    return opened


def acquire(network: str) -> Netns | None:
    """A namespace for a new sandbox (None: bubblewrap makes one, or no sandbox at all)."""
    if not own_namespaces()[0]:
        return None
    return _pool.take(kind_for(network))


def prepare(networks: tuple[str, ...] = ("outbound",)) -> None:
    """At worker start: set egress up and keep namespaces ready for the usual kinds."""
    if own_namespaces()[0]:
        for network in networks:
            _pool.want(kind_for(network))


def _egress_seen() -> tuple[bool, str]:
    """Egress as another process (the web's /healthz) sees it, changing nothing: is the table there?"""
    if not egress_wanted():
        return False, "denied by KILN_SANDBOX_EGRESS=deny"
    nft = shutil.which("nft")
    if not nft:
        return False, "nftables (nft) is not installed; install the Debian package 'nftables'"
    if subprocess.run([nft, "list", "table", "inet", NFT_TABLE], capture_output=True).returncode != 0:
        return False, "not set up: no worker has started on this host"
    return True, f"to other hosts through {SUBNET} (nftables table inet {NFT_TABLE}: never this host)"


def status() -> dict[str, object]:
    own, reason = own_namespaces()
    if not own:
        egress, egress_reason = False, reason
    elif egress_status.cache_info().currsize:  # this process set egress up: a worker
        egress, egress_reason = egress_status()
    else:
        egress, egress_reason = _egress_seen()
    return {"isolation": "netns" if own else "netns (bubblewrap's)", "detail": reason, "egress": egress, "egress_detail": egress_reason,
            "endpoint": f"127.0.0.1:{settings.KILN_PORT}" if own else None}
