"""What the tables app announces on the core event bus (after commit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamRecordsWritten:
    """Records were added to the stream ``stream_arn`` of table ``table_id`` (pk); mappings reading it poll."""

    table_id: int
    stream_arn: str
