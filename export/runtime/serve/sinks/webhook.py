"""``--webhook URL``: each result POSTed as JSON, retried with growing pauses while the receiver fails.

A network error, a timeout, 408, 429 or a 5xx answer is retried (the result
stays at the head of the bounded queue); any other 4xx means the receiver
will never take it, so it is dropped and counted as failed. Standard library
only (urllib): no extra dependency on a station.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from vpt_core.errors import ConfigError

from .base import Permanent, QueuedSink, SinkEvent

RETRIED_STATUSES = {408, 425, 429}


class WebhookPoster(QueuedSink):
    kind = "webhook"

    def __init__(self, url: str, capacity: int, timeout_s: float = 5.0, first_retry_s: float = 0.5,
                 max_retry_s: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--webhook {url!r}: expected an http:// or https:// address")
        super().__init__(f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}",
                         capacity, first_retry_s, max_retry_s)
        self.url, self.timeout_s = url, timeout_s

    def deliver(self, event: SinkEvent) -> None:
        body = json.dumps(event.record, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "vpt-station"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read(1024)
        except urllib.error.HTTPError as error:
            message = f"the receiver answered {error.code} {error.reason}"
            if 400 <= error.code < 500 and error.code not in RETRIED_STATUSES:
                raise Permanent(f"{message}; result {event.record.get('id')} dropped") from error
            raise OSError(message) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise OSError(f"cannot reach the receiver ({reason})") from error
