"""Every refusal of the API as one JSON shape, ``{"error", "message", "fields"}``, whose
message says what to fix: the use cases' refusals, validation, authentication, and what Falcon
itself refuses (a body that is not JSON, an unknown path or method)."""

from __future__ import annotations

from typing import Any

import falcon
from pydantic import ValidationError

from ...tickets import AlreadyDone, Conflict, Forbidden, NotFound, SeverityUnclear, TicketError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    503: "unavailable",
}


class ApiError(falcon.HTTPError):
    def __init__(
        self, status: int, message: str, *, fields: list[dict[str, str]] | None = None, **kw: Any
    ):
        super().__init__(falcon.code_to_http_status(status), description=message, **kw)
        self.fields = fields or []


def refusal(exc: TicketError) -> ApiError:
    """A use case's refusal as its HTTP status, in its own words."""
    status = 422
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Forbidden):
        status = 403
    elif isinstance(exc, Conflict | AlreadyDone):
        status = 409
    message = str(exc)  # people by their user ids: the use cases write no Slack markup
    if isinstance(exc, SeverityUnclear) and exc.candidates:
        message += f" Send severity: one of {', '.join(exc.candidates)}."
    return ApiError(status, message)


def invalid(error: ValidationError, where: str) -> list[dict[str, str]]:
    """Pydantic's errors as ``field: problem`` pairs a client can act on."""
    fields = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or where
        fields.append({"field": path, "problem": item["msg"]})
    return fields


def serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """Falcon's error serializer: one shape for every error, ours and Falcon's own."""
    message = exc.description or exc.title or "the request failed"
    if exc.status_code == 404 and not isinstance(exc, ApiError):
        message = f"there is no {req.method} {req.path}: see /api/v1/openapi.json"
    elif exc.status_code == 400 and not isinstance(exc, ApiError):
        message = f"{message}: send a JSON object (Content-Type: application/json)"
    resp.media = {
        "error": CODES.get(exc.status_code, "error"),
        "message": message,
        "fields": getattr(exc, "fields", []),
    }
    resp.content_type = falcon.MEDIA_JSON
