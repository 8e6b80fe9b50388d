"""The 4PX router's wire shapes: the ``{result, msg, errors, data}`` answer, paging, the JSON body, times.

Shared by the emulator (signing errors, inventory) and ``outbound`` (the outbound order methods).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sandbox.core.http_types import Request, Response


def ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def paged(body: dict[str, Any], rows: list[dict[str, Any]], *, default: int, maximum: int) -> dict[str, Any]:
    page_no = max(1, int(body.get("page_no") or 1))
    size = min(maximum, max(1, int(body.get("page_size") or default)))
    return {"page_no": page_no, "page_size": size, "total": len(rows),
            "data": rows[(page_no - 1) * size: page_no * size]}


def ok(data: Any) -> Response:
    return Response.json(200, {"result": "1", "msg": "success", "errors": [], "data": data})


def error(code: str, message: str) -> Response:
    return Response.json(200, {"result": "0", "msg": message, "data": None,
                               "errors": [{"error_code": code, "error_msg": message, "error_data": None,
                                           "referenceCode": None}]})
