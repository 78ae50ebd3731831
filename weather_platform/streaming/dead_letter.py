"""Dead-letter records: what could not be read, why, and where it came from — so nothing is silently dropped.

A dead letter must itself fit in a Kafka message: a value larger than MAX_VALUE_BYTES is kept truncated, with
its full size and SHA-256, so the original can still be identified (and found in the source topic by its
coordinates while the topic retains it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

MAX_VALUE_BYTES = 64 * 1024
MAX_KEY_BYTES = 1024
MAX_REASON_CHARS = 1000


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
    raw_size: int = 0  # bytes of the original value
    raw_sha256: str = ""
    truncated: bool = False  # raw/raw_base64 hold only the first MAX_VALUE_BYTES bytes

    @classmethod
    def of(cls, record: Any, reason: str) -> DeadLetter:
        """From a kafka-python ConsumerRecord that could not be written to bronze."""
        value: bytes = record.value or b""
        kept = value[:MAX_VALUE_BYTES]
        try:
            text, encoded = kept.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            if len(value) > MAX_VALUE_BYTES and exc.start >= len(kept) - 3:  # cut inside a character
                text, encoded = kept[: exc.start].decode("utf-8"), None
            else:
                text, encoded = None, base64.b64encode(kept).decode()
        key = record.key[:MAX_KEY_BYTES].decode("utf-8", errors="replace") if record.key is not None else None
        return cls(
            reason=reason[:MAX_REASON_CHARS],
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            source_timestamp_ms=record.timestamp,
            key=key,
            raw=text,
            raw_base64=encoded,
            raw_size=len(value),
            raw_sha256=hashlib.sha256(value).hexdigest(),
            truncated=len(value) > MAX_VALUE_BYTES,
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    def headers(self) -> list[tuple[str, bytes]]:
        """Source coordinates as headers too, so DLQ readers can de-duplicate a replayed batch without parsing."""
        return [
            ("dlq.reason", self.reason.encode("utf-8", errors="backslashreplace")[:512]),
            ("dlq.source", f"{self.source_topic}/{self.source_partition}/{self.source_offset}".encode()),
        ]

    @classmethod
    def from_json(cls, raw: bytes) -> DeadLetter:
        return cls(**json.loads(raw))
