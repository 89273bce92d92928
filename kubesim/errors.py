"""API errors answered as `Status` objects, with the reasons kube-apiserver uses."""

from __future__ import annotations

from typing import Any

from kubesim.resources import ResourceType


class ApiError(Exception):
    """An error answer: HTTP status, Status reason, message and optional details."""

    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        """The `Status` body of this error."""
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(rtype: ResourceType | None, name: str | None, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rtype is not None:
        if rtype.group:
            details["group"] = rtype.group
        details["kind"] = rtype.plural
    details.update(extra)
    return details


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rtype.qualified} "{name}" not found', _details(rtype, name))


def no_such_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def already_exists(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rtype.qualified} "{name}" already exists',
                    _details(rtype, name))


def conflict(rtype: ResourceType, name: str, why: str = "the object has been modified; please "
             "apply your changes to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rtype.qualified} "{name}": {why}',
                    _details(rtype, name))


def invalid(rtype: ResourceType, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid; `causes` are dicts with reason, message and field."""
    text = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    if len(causes) > 1:
        text = f"[{text}]"
    group = f".{rtype.group}" if rtype.group else ""
    return ApiError(422, "Invalid", f'{rtype.kind}{group} "{name}" is invalid: {text}',
                    {"name": name, **({"group": rtype.group} if rtype.group else {}),
                     "kind": rtype.kind, "causes": causes})


def cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(rtype: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{rtype.qualified} "{name}" is forbidden: {why}',
                    _details(rtype, name))


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f'the body of the request was in an unknown format - accepted media types '
                    f'include: application/json, application/yaml (got "{content_type}")')


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    f"the server does not allow this method on the requested resource ({method})")


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def not_acceptable(accept: str) -> ApiError:
    return ApiError(406, "NotAcceptable",
                    f"only the following media types are accepted: application/json (got {accept!r})")


_FAULT_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
    503: "ServiceUnavailable", 504: "Timeout",
}


def injected(code: int) -> ApiError:
    """The error an injected fault answers with (Retry-After on 429 and 503, as real servers do)."""
    reason = _FAULT_REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
    headers: dict[str, str] = {}
    details: dict[str, Any] | None = None
    if code in (429, 503):
        headers["Retry-After"] = "1"
        details = {"retryAfterSeconds": 1}
    return ApiError(code, reason, f"injected fault: HTTP {code} {reason}", details, headers)
