"""Kiln's Java bootstrap build: the jar, the probe classes and the class-data archive a JVM really maps.

No worker: the build runs here as the worker runs it at start, then a JVM is started the way a sandbox starts
one (bubblewrap with the build bound at /var/lang/java, or on the host for ``KILN_SANDBOX=process``).
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest

from functions.runtimes import runtime_info
from invoker import javabuild
from invoker.launchers import TRAINING_MEMORY_MB, java_argv, java_flags

JAVA17 = runtime_info("java17")
pytestmark = pytest.mark.skipif(JAVA17 is None, reason="needs a JDK 17; .ci/run installs default-jdk-headless")


def _bwrap(directory: str, inner: list[str]) -> list[str]:
    return ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", directory, javabuild.INSIDE, "--", *inner]


def test_the_jar_runs_as_the_bootstrap_and_opens_java_lang_through_its_manifest() -> None:
    assert JAVA17 is not None
    jar = javabuild.bootstrap_jar(JAVA17.executable)
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode()
        names = set(archive.namelist())
    assert "Main-Class: kiln.Bootstrap" in manifest and "Add-Opens: java.base/java.lang" in manifest
    assert {"kiln/Bootstrap.class", "com/amazonaws/services/lambda/runtime/RequestHandler.class"} <= names
    assert not any(name.startswith("kilnwarm/") for name in names)  # the probe is loaded as a function is, not from the class path
    assert (jar.parent / "probe" / "kilnwarm" / "Probe.class").is_file()


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_the_class_data_archive_is_mapped_by_a_jvm_started_as_functions_are(mode: str) -> None:
    assert JAVA17 is not None
    if mode == "bwrap" and shutil.which("bwrap") is None:
        pytest.skip("no bubblewrap")
    flags = java_flags(TRAINING_MEMORY_MB)
    archive = javabuild.class_data_archive(JAVA17.executable, mode, flags)
    directory = javabuild.bootstrap_classes(JAVA17.executable)
    assert archive is not None, (directory / f".{javabuild.ARCHIVES[mode]}.failed").read_text()
    jar = f"{javabuild.INSIDE}/{javabuild.JAR}" if mode == "bwrap" else str(directory / javabuild.JAR)
    # The training run again (a bootstrap's life against its own Runtime API), at another memory size: -Xshare:on
    # refuses to start when the archive cannot be mapped; class+load says where each class came from.
    inner = [JAVA17.executable, *java_flags(256), "-Xshare:on", f"-XX:SharedArchiveFile={archive}", "-Xlog:class+load:stdout", "-jar", jar, "--train"]
    run = subprocess.run(_bwrap(str(directory), inner) if mode == "bwrap" else inner, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    loaded = {line.split()[1]: line for line in run.stdout.splitlines() if line.startswith("[") and " source: " in line}
    for name in ("kiln.Bootstrap", "kiln.Json", "kiln.Warm", "kiln.Bootstrap$RuntimeClient"):
        assert "shared objects file (top)" in loaded[name], loaded[name]  # Kiln's own classes, from the archive
    assert "shared objects file" in loaded["java.lang.Object"]


def test_a_runtime_command_uses_the_archive_and_no_flag_that_would_cost_the_jdks_module_graph() -> None:
    spare = java_argv("/usr/bin/java", 512, "/var/lang/java/bootstrap.jar", "/opt", "/var/lang/java/bootstrap.jsa", opens=True)
    known = java_argv("/usr/bin/java", 512, "/var/lang/java/bootstrap.jar", "/opt", "/var/lang/java/bootstrap.jsa")
    for argv in (spare, known):
        assert "-XX:SharedArchiveFile=/var/lang/java/bootstrap.jsa" in argv and "-XX:MaxRAM=512m" in argv
        assert not any(flag.startswith("--add-opens") or flag == "-XX:+UseSerialGC" for flag in argv)
    # A spare takes its function's environment later: the jar's manifest opens java.lang to it. A JVM started for
    # a known function names the class instead, and the launcher's handling of that attribute is not paid.
    assert spare[spare.index("-jar") + 1] == "/var/lang/java/bootstrap.jar"
    assert "-jar" not in known and known[known.index("-cp") + 1:known.index("-cp") + 3] == ["/var/lang/java/bootstrap.jar", "kiln.Bootstrap"]
    assert "-XX:SharedArchiveFile" not in " ".join(java_argv("/usr/bin/java", 512, "bootstrap.jar", "/opt", None))
