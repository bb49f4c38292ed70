"""What travels between tasks: a small readable summary beside the data, compressed.

Airflow keeps a task's return value as an XCom row and, by default, writes it into the task log. The records a
window produces (profiles, validation results, one row per feature, slice and metric) are tens of KB of JSON, so
they travel zlib-compressed and base64-encoded (XComs must be JSON) and the summary is what a person sees.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any


def pack(data: Any, summary: dict[str, Any]) -> dict[str, Any]:
    """`summary` as is and `data` as compressed JSON; `unpack` returns `data`."""
    raw = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    return {"summary": summary, "packed": base64.b64encode(zlib.compress(raw, 9)).decode("ascii")}


def unpack(payload: dict[str, Any]) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(payload["packed"])))
