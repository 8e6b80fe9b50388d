"""Delivering an emulator's webhook to a receiver, the way a platform's push service does."""

from __future__ import annotations

import urllib.error
import urllib.request


def post_webhook(url: str, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> int:
    """POST it; return the receiver's HTTP status (an HTTP error status is returned, not raised)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
