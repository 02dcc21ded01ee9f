"""How Kiln's Ruby and Java runtimes are started: the JVM's flags and Ruby's gem and load paths."""

from __future__ import annotations

from invoker import sandbox

JAVA_HEAP_PERCENT = 75  # of the function's memory; the rest is the JVM's metaspace, code cache, stacks


def java_argv(java: str, memory_mb: int, classpath: str, opt: str) -> list[str]:
    """The JVM of a Java runtime: sized to the function's memory (the sandbox has no /sys, so the JVM is
    told it rather than reading its cgroup), tuned for start-up as Lambda's Java runtime is (serial GC,
    C1 only, the JDK's class-data archive). ``JAVA_TOOL_OPTIONS`` in the environment applies on top.
    ``java.lang`` is opened to Kiln's bootstrap so a prewarmed JVM can take its function's environment."""
    return [java, f"-XX:MaxRAM={memory_mb}m", f"-XX:MaxRAMPercentage={JAVA_HEAP_PERCENT}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:-UsePerfData", "-Xshare:auto", "--add-opens=java.base/java.lang=ALL-UNNAMED", "-cp", classpath, "kiln.Bootstrap", "--opt", opt]


def ruby_paths(version: str, layout: sandbox.Layout) -> dict[str, str]:
    """``GEM_PATH`` and ``RUBYLIB`` as Lambda's Ruby runtime sets them: the function's ``vendor/bundle``
    and the layers' ``ruby/gems`` (for the host Ruby's ABI, e.g. ``3.1.0``, and for Lambda's ``3.3.0``,
    whose pure-Ruby gems run too), then (the trailing ``:``) the host Ruby's own gem directories."""
    abis = dict.fromkeys([".".join(version.split(".")[:2]) + ".0", "3.3.0"])
    gem_path = [f"{layout.task}/vendor/bundle/ruby/{abi}" for abi in abis] + [f"{layout.opt}/ruby/gems/{abi}" for abi in abis]
    return {"GEM_PATH": ":".join(gem_path) + ":", "RUBYLIB": f"{layout.task}:{layout.opt}/ruby/lib"}
