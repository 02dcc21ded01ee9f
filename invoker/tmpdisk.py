"""``/tmp`` on disk, as Lambda gives it: sized to the ephemeral storage, not counted as memory.

A worker run as root backs each sandbox's ``/tmp`` with a sparse file holding an ext4 filesystem of
exactly the ephemeral storage's size (no journal, no reserved blocks, inode tables initialised lazily),
loop-mounted ``nosuid,nodev,discard`` (a deleted file's blocks go back to the host's disk) and bound at
``/tmp``: writing past its size fails with ``ENOSPC``, its
pages are page cache (reclaimable, written back under the function's memory limit instead of pinned in
it as a tmpfs's are), and a 10,240 MB one takes a few MB of disk until it is written. Making one costs
~5-15 ms (``mkfs.ext4``) plus the loop mount, and removing one a few ms, so a pool per size keeps one
mounted ahead of need (sizes used recently; those functions have at the worker's start) and removal
runs in the background; a cold start takes one. A size not in the pool is made while its sandbox starts:
its empty mountpoint is bound at ``/tmp`` and the mount, made later on the worker's shared mount,
appears inside; the runtime is held before the function's code runs until it is there. Every image lives under ``KILN_WORK_DIR/tmpdisk/<pid>``; a worker
removes what a dead worker left there at start. Without root (no loop mounts) ``/tmp`` stays a tmpfs of
the same size, counted as memory, and ``/healthz`` says so.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import logging
import os
import shutil
import struct
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)
SANDBOX_UID = 993
POOL_PER_SIZE = 1
MAX_SIZES = 6
MKFS_OPTIONS = ["-q", "-F", "-t", "ext4", "-O", "^has_journal,^resize_inode", "-i", "65536", "-m", "0",
                "-E", f"lazy_itable_init=1,lazy_journal_init=1,root_owner={SANDBOX_UID}:{SANDBOX_UID}"]
MB = 1024 * 1024
LOOP_CTL_GET_FREE, LOOP_CONFIGURE, LO_FLAGS_AUTOCLEAR = 0x4C82, 0x4C0A, 4
MS_NOSUID, MS_NODEV, MS_NOATIME, MS_BIND, MS_SHARED = 0x2, 0x4, 0x400, 0x1000, 1 << 20
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class TmpDisk:
    image: Path
    mountpoint: Path
    size_mb: int
    ready: threading.Event = field(default_factory=threading.Event)  # mounted (set at once when taken from the pool)
    error: str = ""

    def wait(self, timeout: float = 60.0) -> None:
        """Until it is mounted; OSError if it could not be."""
        if not self.ready.wait(timeout):
            raise OSError(f"the {self.size_mb} MB /tmp was not ready within {timeout:.0f} s")
        if self.error:
            raise OSError(self.error)


def _root() -> Path:
    return Path(settings.KILN_WORK_DIR) / "tmpdisk"


def _mine() -> Path:
    return _root() / str(os.getpid())


def _new(size_mb: int, *, shared: bool = True) -> TmpDisk:
    base = _shared_base() if shared else _mine()
    base.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex[:16]
    return TmpDisk(base / f"{name}.img", base / name, size_mb)


@functools.cache
def _shared_base() -> Path:
    """This worker's directory of images and mountpoints, a shared mount of its own: a /tmp mounted
    here after a sandbox bound its (empty) mountpoint still appears in it (the sandbox's copy is a
    slave), which lets a cold start overlap making a /tmp of a new size (``take``)."""
    base = _mine()
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o711)
    raw = str(base).encode()
    if _libc.mount(raw, raw, None, MS_BIND, None) != 0:
        log.warning("could not bind %s onto itself: %s", base, os.strerror(ctypes.get_errno()))
    elif _libc.mount(None, raw, None, MS_SHARED, None) != 0:
        log.warning("could not make %s a shared mount: %s", base, os.strerror(ctypes.get_errno()))
    else:
        _shared.append(base)
    return base


_shared: list[Path] = []  # the base made a shared mount (unmounted by stop_all)


def _can_defer() -> bool:
    """Whether a /tmp mounted after the sandbox started reaches it: only through the shared base."""
    return _shared_base() in _shared


def _make(size_mb: int, disk: TmpDisk | None = None) -> TmpDisk:
    disk = disk or _new(size_mb)
    try:
        _format(disk.image, size_mb * MB)
        disk.mountpoint.mkdir(mode=0o755, exist_ok=True)
        _mount(disk.image, disk.mountpoint)
        (disk.mountpoint / "lost+found").rmdir()  # Lambda's /tmp starts empty
    except (OSError, subprocess.SubprocessError) as exc:
        _destroy(disk)
        detail = exc.stderr.decode(errors="replace").strip() if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else str(exc)
        raise OSError(f"could not make a {size_mb} MB /tmp: {detail}") from exc
    disk.ready.set()
    return disk


def _free_bytes(image: Path) -> int:
    """What a process can write: the free blocks less the kernel's hidden reserve (``s_resv_clusters``:
    2 % of the blocks, at most 4096). Read from the superblock (at byte 1024), as ``dumpe2fs -h`` shows it."""
    with open(image, "rb") as handle:
        handle.seek(1024)
        sb = handle.read(1024)
    blocks_lo, _, free_lo = struct.unpack_from("<III", sb, 0x04)
    block_size = 1024 << struct.unpack_from("<I", sb, 0x18)[0]
    blocks_hi, _, free_hi = struct.unpack_from("<III", sb, 0x150)
    is_64bit = struct.unpack_from("<I", sb, 0x60)[0] & 0x80
    blocks = blocks_lo | (blocks_hi << 32 if is_64bit else 0)
    free = free_lo | (free_hi << 32 if is_64bit else 0)
    return (free - min(blocks // 50, 4096)) * block_size


def _mount(image: Path, target: Path) -> None:
    """Loop-mount ``image`` at ``target``: the loop ioctls and mount(2) directly (~25 ms less than
    ``mount -o loop``'s processes), else through ``mount``. The loop device detaches itself on umount."""
    try:
        with open("/dev/loop-control", "rb") as control, open(image, "r+b") as backing:
            for _ in range(8):
                number = fcntl.ioctl(control, LOOP_CTL_GET_FREE)
                info = struct.pack("<QQQQQIIII64s64s32sQQ", 0, 0, 0, 0, 0, 0, 0, 0, LO_FLAGS_AUTOCLEAR, b"", b"", b"", 0, 0)
                config = struct.pack("<II", backing.fileno(), 0) + info + bytes(64)
                with open(f"/dev/loop{number}", "r+b") as loop:
                    try:
                        fcntl.ioctl(loop, LOOP_CONFIGURE, config)
                    except OSError as exc:
                        if exc.errno == errno.EBUSY:  # another process took it first
                            continue
                        raise
                    flags = MS_NOSUID | MS_NODEV | MS_NOATIME
                    if _libc.mount(f"/dev/loop{number}".encode(), str(target).encode(), b"ext4", flags, b"discard") != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, f"mount: {os.strerror(error)}")
                    return
    except OSError as exc:
        log.debug("loop ioctls unavailable (%s); using mount -o loop", exc)
    subprocess.run(["mount", "-o", "loop,nosuid,nodev,noatime,discard", str(image), str(target)], check=True, capture_output=True, timeout=60)


# (size MB, image MB - writable MB) for MKFS_OPTIONS: the reserve is 2 % up to 800 MB, then 16 MB.
OVERHEAD_MB = ((512, 12.892), (600, 14.995), (1024, 20.246), (2048, 24.370), (4096, 32.584), (8192, 49.136), (10240, 57.260))


def _overhead_mb(size_mb: float) -> float:
    points = OVERHEAD_MB
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if size_mb <= x1:
            return y0 + (y1 - y0) * (size_mb - x0) / (x1 - x0)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return y1 + (y1 - y0) * (size_mb - x1) / (x1 - x0)


def _format(image: Path, wanted: int) -> None:
    """An ext4 filesystem in a sparse file whose free space is ``wanted`` bytes (to within 0.5 MB): the
    file is that much larger, by the metadata and the kernel's reserve (``OVERHEAD_MB``, measured with
    these options: one ``mkfs.ext4`` usually lands, else one more corrects it)."""
    size = wanted + int(_overhead_mb(wanted / MB) * MB) + MB // 8
    for _ in range(4):
        with open(image, "wb") as handle:
            handle.truncate(size)  # sparse: nothing allocated until written
        subprocess.run(["mkfs.ext4", *MKFS_OPTIONS, str(image)], check=True, capture_output=True, timeout=60)
        free = _free_bytes(image)
        if wanted <= free <= wanted + MB // 2:
            return
        size += wanted - free + MB // 8


def _destroy(disk: TmpDisk, *, lazy: bool = False) -> None:
    """Unmount and remove; ``lazy`` (at shutdown) detaches at once and lets the kernel finish."""
    target = str(disk.mountpoint).encode()
    if os.path.ismount(disk.mountpoint) and (lazy or _libc.umount2(target, 0) != 0):
        _libc.umount2(target, 2)  # MNT_DETACH: freed once the last process lets go
    for remove in (lambda: disk.mountpoint.rmdir(), lambda: disk.image.unlink()):
        try:
            remove()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", disk.image, exc)


@functools.cache
def available() -> tuple[bool, str]:
    """Whether this worker can give sandboxes a disk-backed /tmp (made once, a small one)."""
    if os.geteuid() != 0:
        return False, "Kiln is not root (no loop mounts): /tmp is a tmpfs, counted as memory"
    missing = [tool for tool in ("mkfs.ext4", "mount") if not shutil.which(tool)]
    if missing:
        return False, f"{', '.join(missing)} not installed (Debian: e2fsprogs, mount): /tmp is a tmpfs, counted as memory"
    try:
        _destroy(_make(16, _new(16, shared=False)))
    except OSError as exc:
        return False, f"{exc}: /tmp is a tmpfs, counted as memory"
    return True, "ext4 on a sparse file per environment, sized to its ephemeral storage"


class TmpDiskPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[int, list[TmpDisk]] = {}
        self._doomed: list[TmpDisk] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, size_mb: int) -> TmpDisk:
        """A mounted /tmp of this size from the pool, else one whose mountpoint exists now and which a
        thread of its own formats and mounts (``ready``), while the sandbox starts around it."""
        with self._lock:
            ready = self._ready.pop(size_mb, [])
            disk = ready.pop() if ready else None
            self._ready[size_mb] = ready  # most recently used size last
            while len(self._ready) > MAX_SIZES:
                self._doomed += self._ready.pop(next(iter(self._ready)))
            self._start()
        self._wake.set()
        if disk is not None:
            return disk
        disk = _new(size_mb)
        if not _can_defer():
            return _make(size_mb, disk)
        disk.mountpoint.mkdir(mode=0o755)
        threading.Thread(target=self._make_now, args=(disk,), name="kiln-tmpdisk-now", daemon=True).start()
        return disk

    @staticmethod
    def _make_now(disk: TmpDisk) -> None:
        try:
            _make(disk.size_mb, disk)
        except BaseException as exc:  # noqa: BLE001 - whatever it was, the start waiting on it must hear
            disk.error = str(exc) if isinstance(exc, OSError) else f"could not make a {disk.size_mb} MB /tmp: {exc!r}"
            disk.ready.set()

    def want(self, size_mb: int) -> None:
        with self._lock:
            self._ready.setdefault(size_mb, [])
            self._start()
        self._wake.set()

    def release(self, disk: TmpDisk) -> None:
        """Removed in the background (umount and unlink take ~25 ms; one still being made, once made)."""
        with self._lock:
            self._doomed.append(disk)
            self._start()
        self._wake.set()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiln-tmpdisk", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=30)
            self._wake.clear()
            with self._lock:
                doomed, self._doomed = self._doomed, []
            disk: TmpDisk | None
            for disk in doomed:
                disk.ready.wait(60)
                _destroy(disk)
            with self._lock:
                missing = [size for size, ready in self._ready.items() for _ in range(POOL_PER_SIZE - len(ready))]
            for size in missing:
                try:
                    disk = _make(size)
                except OSError:
                    log.exception("could not make a /tmp ahead of need")
                    break
                with self._lock:
                    if size in self._ready:
                        self._ready[size].append(disk)
                        disk = None
                if disk is not None:
                    _destroy(disk)

    def stop_all(self) -> None:
        with self._lock:
            disks = [d for ready in self._ready.values() for d in ready] + self._doomed
            self._ready.clear()
            self._doomed = []
        for disk in disks:
            disk.ready.wait(10)
            _destroy(disk, lazy=True)
        for base in _shared:
            _libc.umount2(str(base).encode(), 2)  # MNT_DETACH: the shared bind of the base
        _shared.clear()
        _shared_base.cache_clear()


_pool = TmpDiskPool()


def take(size_mb: int) -> TmpDisk | None:
    """A mounted /tmp of ``size_mb`` for a new sandbox; None: use a tmpfs (``available`` says why)."""
    if not available()[0]:
        return None
    return _pool.take(size_mb)


def failure(disk: TmpDisk | None) -> str:
    """Wait until ``disk`` is mounted; why it could not be ("" when it is, or there is none)."""
    try:
        if disk is not None:
            disk.wait()
    except OSError as exc:
        return str(exc)
    return ""


def release(disk: TmpDisk) -> None:
    _pool.release(disk)


def prepare(*sizes_mb: int) -> None:
    """At worker start: remove what dead workers left, and keep a /tmp of each size ready."""
    root = _root()
    if root.is_dir():
        for entry in root.iterdir():
            if entry.name.isdigit() and not Path(f"/proc/{entry.name}").exists():
                for mountpoint in entry.iterdir():
                    if mountpoint.is_dir():
                        _destroy(TmpDisk(entry / f"{mountpoint.name}.img", mountpoint, 0))
                _libc.umount2(str(entry).encode(), 2)  # its shared bind, if it is still there
                shutil.rmtree(entry, ignore_errors=True)
    if available()[0]:
        for size_mb in sizes_mb[:MAX_SIZES]:
            _pool.want(size_mb)


def stop_all() -> None:
    _pool.stop_all()


def status() -> dict[str, object]:
    """What backs /tmp; a process that has not made one (the web's /healthz) judges without mounting."""
    if available.cache_info().currsize:
        ok, detail = available()
    elif os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        ok, detail = False, "Kiln is not root or mkfs.ext4 is missing: /tmp is a tmpfs, counted as memory"
    else:
        ok, detail = True, "ext4 on a sparse file per environment, sized to its ephemeral storage"
    return {"backing": "disk" if ok else "tmpfs", "detail": detail}
