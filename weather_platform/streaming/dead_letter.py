"""Dead-letter records: what could not be read, why, and where it came from — so nothing is silently dropped."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp_ms: int | None
    key: str | None
    raw: str | None  # the value as UTF-8 text when it is text
    raw_base64: str | None  # else the exact bytes

    @classmethod
    def of(cls, record: Any, reason: str) -> DeadLetter:
        """From a kafka-python ConsumerRecord that failed to parse."""
        value: bytes = record.value or b""
        try:
            text, encoded = value.decode("utf-8"), None
        except UnicodeDecodeError:
            text, encoded = None, base64.b64encode(value).decode()
        key = record.key.decode("utf-8", errors="replace") if record.key is not None else None
        return cls(reason, record.topic, record.partition, record.offset, record.timestamp, key, text, encoded)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    def headers(self) -> list[tuple[str, bytes]]:
        """Source coordinates as headers too, so DLQ readers can de-duplicate a replayed batch without parsing."""
        return [
            ("dlq.reason", self.reason.encode()[:512]),
            ("dlq.source", f"{self.source_topic}/{self.source_partition}/{self.source_offset}".encode()),
        ]

    @classmethod
    def from_json(cls, raw: bytes) -> DeadLetter:
        return cls(**json.loads(raw))
