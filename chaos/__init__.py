"""``make chaos``: Kiln under faults, and the proof that nothing accepted is lost.

A harness outside Kiln's apps (it imports none of them): it starts Kiln as ``make run`` does
(``scripts/run.sh``) on a private PostgreSQL and a private Redis, submits asynchronous invocations and
SQS messages while it kills and restarts Kiln's processes and its infrastructure, then counts what
became of every accepted invocation. ``chaos/run.py`` is the entry point.
"""
