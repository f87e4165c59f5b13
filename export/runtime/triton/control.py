"""Triton's HTTP API for health, the model repository (explicit model control) and statistics, with urllib.

No tritonclient needed: ``vpt triton add-task`` and ``vpt triton serve`` stay
usable with the base install. Every call has a timeout; failures are
:class:`TritonControlError` with one line naming the server and what it said.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from vpt_core.errors import VptError


class TritonControlError(VptError):
    """The Triton server could not be reached or refused a repository or statistics call."""


def normalise_url(url: str) -> str:
    """``127.0.0.1:8000`` or ``http://127.0.0.1:8000/`` -> ``http://127.0.0.1:8000``."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise TritonControlError(f"{url!r} is not an HTTP address of a Triton server (e.g. http://127.0.0.1:8000)")
    return url


class TritonHttp:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url = normalise_url(url)
        self.timeout = timeout

    # -- health ------------------------------------------------------------------------------
    def is_live(self) -> bool:
        return self._status("GET", "/v2/health/live") == 200

    def is_ready(self) -> bool:
        return self._status("GET", "/v2/health/ready") == 200

    def is_model_ready(self, model: str) -> bool:
        return self._status("GET", f"/v2/models/{_quote(model)}/ready") == 200

    # -- repository (explicit model control) -------------------------------------------------
    def load_model(self, model: str, timeout: float = 300.0) -> None:
        """Load or reload ``model``; Triton answers when it is ready (or failed), so the wait can be long."""
        self._call("POST", f"/v2/repository/models/{_quote(model)}/load", {}, timeout)

    def unload_model(self, model: str, timeout: float = 60.0) -> None:
        self._call("POST", f"/v2/repository/models/{_quote(model)}/unload", {}, timeout)

    def repository_index(self) -> list[dict[str, Any]]:
        return self._call("POST", "/v2/repository/index", {})

    # -- statistics --------------------------------------------------------------------------
    def model_statistics(self, model: str) -> dict[str, Any]:
        """Triton's statistics of the model's loaded version (counts restart when the model is reloaded)."""
        document = self._call("GET", f"/v2/models/{_quote(model)}/stats")
        stats = document.get("model_stats") if isinstance(document, dict) else None
        if not stats:
            raise TritonControlError(f"{self.url}: no statistics for model {model!r}")
        return stats[0]

    # -- plumbing ----------------------------------------------------------------------------
    def _status(self, method: str, path: str) -> int:
        try:
            with urllib.request.urlopen(self._request(method, path), timeout=self.timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            return 0

    def _call(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> Any:
        try:
            with urllib.request.urlopen(self._request(method, path, body), timeout=timeout or self.timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as error:
            raise TritonControlError(f"{self.url}{path}: {_error_text(error)}") from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TritonControlError(f"cannot reach the Triton server at {self.url} ({reason})") from error
        return json.loads(data) if data else None

    def _request(self, method: str, path: str, body: Any = None) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if data is not None else {}
        return urllib.request.Request(self.url + path, data=data, method=method, headers=headers)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        document = json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        document = {}
    message = document.get("error") if isinstance(document, dict) else None
    return " ".join(str(message or f"HTTP {error.code} {error.reason}").split())
