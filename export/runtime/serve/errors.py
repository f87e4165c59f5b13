"""Errors of the service that carry their HTTP status (messages are meant for the person calling)."""

from __future__ import annotations

from typing import Any

from vpt_core.errors import VptError


class ServiceError(VptError):
    """A request that cannot be served; ``status`` is the HTTP status, ``details`` extra JSON fields."""

    status = 400

    def __init__(self, message: str, status: int | None = None, **details: Any):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.details = details


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class PayloadTooLarge(ServiceError):
    status = 413


class UnsupportedMedia(ServiceError):
    status = 415


class Unprocessable(ServiceError):
    status = 422


class Unavailable(ServiceError):
    status = 503
