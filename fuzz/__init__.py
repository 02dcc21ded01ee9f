"""``make fuzz``: bad input, and no 5xx.

A harness outside Kiln's apps (it imports none of them, like ``chaos/``, whose Kiln starter it reuses): it
starts Kiln as ``make run`` does (``scripts/run.sh``) on a private port, data dir, PostgreSQL database
``fuzz_kiln`` and Redis DB 11, then sends it generated requests: Schemathesis against the REST API's OpenAPI
schema (``fuzz/restapi.py``) and Hypothesis-made, correctly SigV4-signed malformed AWS requests
(``fuzz/aws.py``). ``fuzz/run.py`` is the entry point.
"""
