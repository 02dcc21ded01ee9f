"""How Kiln's Ruby and Java runtimes are started: the JVM's flags and Ruby's gem and load paths."""

from __future__ import annotations

from invoker import sandbox

JAVA_HEAP_PERCENT = 75  # of the function's memory; the rest is the JVM's metaspace, code cache, stacks


TRAINING_MEMORY_MB = 128  # the -XX:MaxRAM of the class-data archive's training run (any size maps it)


def java_flags(memory_mb: int) -> list[str]:
    """The JVM's flags: sized to the function's memory (the sandbox has no /sys, so the JVM is told it rather
    than reading its cgroup), C1 only as Lambda's Java runtime starts it, and G1 named even for small heaps
    (where the JVM would pick the serial collector): the JDK's archived module graph and heap objects map only
    under G1 on JDK 17, and rebuilding them costs every start 15-40 ms (measured, docs/benchmarks.md)."""
    return [f"-XX:MaxRAM={memory_mb}m", f"-XX:MaxRAMPercentage={JAVA_HEAP_PERCENT}", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
            "-XX:-UsePerfData", "-Xshare:auto"]


def java_argv(java: str, memory_mb: int, jar: str, opt: str, archive: str | None, *, opens: bool = False) -> list[str]:
    """A Java runtime's command: Kiln's bootstrap jar (``invoker/javabuild.py``) with its class-data archive
    when there is one (a JVM that cannot use it starts without it, silently: ``-Xlog:cds=off``).
    ``JAVA_TOOL_OPTIONS`` in the environment applies on top.

    ``opens``: run it as ``-jar``, whose manifest opens ``java.lang`` to the bootstrap, for a spare that takes
    its function's environment later (``kiln.Bootstrap.setenv``). The launcher applies that attribute with
    the JVM's first lambdas, ~20 ms of a start (measured, docs/benchmarks.md), so a JVM started for a known
    function, whose environment is its process's, names the class on the same class path instead (the
    class-data archive made with ``-jar`` maps for it: the class path is the same)."""
    shared = [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off,cds+dynamic=off"] if archive else []
    entry = ["-jar", jar] if opens else ["-cp", jar, "kiln.Bootstrap"]
    return [java, *java_flags(memory_mb), *shared, *entry, "--opt", opt]


def ruby_paths(version: str, layout: sandbox.Layout) -> dict[str, str]:
    """``GEM_PATH`` and ``RUBYLIB`` as Lambda's Ruby runtime sets them: the function's ``vendor/bundle``
    and the layers' ``ruby/gems`` (for the host Ruby's ABI, e.g. ``3.1.0``, and for Lambda's ``3.3.0``,
    whose pure-Ruby gems run too), then (the trailing ``:``) the host Ruby's own gem directories."""
    abis = dict.fromkeys([".".join(version.split(".")[:2]) + ".0", "3.3.0"])
    gem_path = [f"{layout.task}/vendor/bundle/ruby/{abi}" for abi in abis] + [f"{layout.opt}/ruby/gems/{abi}" for abi in abis]
    return {"GEM_PATH": ":".join(gem_path) + ":", "RUBYLIB": f"{layout.task}:{layout.opt}/ruby/lib"}
