"""Errors raised by the cluster gateway, classified by what the caller should do about them.

- `TransientClusterError`: try again later (timeouts, refused connections, 429, 5xx). Tasks retry.
- `ConflictError`: someone else changed the object (409 Conflict); re-read and redo the change.
  `AlreadyExistsError` is the 409 a create gets when the name is taken. It subclasses
  `ConflictError` because both mean "the cluster state is not what you assumed"; catch
  `AlreadyExistsError` first when the two need different handling.
- `NotFoundError`: the object (or namespace) does not exist.
- `InvalidError`: the server refused the object as invalid (422, and 400 Bad Request such as a
  field of the wrong type); `.causes` lists `(field, message)` pairs to show next to the input.
- `PermanentClusterError`: retrying will not help (403, 401, TLS failures, configuration
  problems and every other status). `MissingCRDError` and `ClusterConfigError` are kinds of it.

Every error has `.message`, a sentence a user can act on; `str(error)` is that message. This
module does not import the `kubernetes` client, so callers can catch these anywhere.
"""

from __future__ import annotations

import json
from typing import Any


class ClusterError(Exception):
    """A failed call to the Kubernetes API; `status` is the HTTP status when there was one."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class TransientClusterError(ClusterError):
    """The API could not serve the request now; the same request may succeed later."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class PermanentClusterError(ClusterError):
    """The request cannot succeed as it is (forbidden, unauthorized, unsupported, misconfigured)."""


class ClusterConfigError(PermanentClusterError):
    """The cluster connection settings (kubeconfig, context, service account) are unusable."""


class MissingCRDError(PermanentClusterError):
    """The cluster does not serve a custom resource the console needs."""

    def __init__(self, kind: str, *, status: int | None = 404) -> None:
        super().__init__(
            f"This cluster lacks the {kind} CRD; run `python manage.py install_crds`.",
            status=status, reason="NotFound",
        )
        self.kind = kind


class ConflictError(ClusterError):
    """409: the object changed since it was read, or another field manager owns the fields."""


class AlreadyExistsError(ConflictError):
    """409 AlreadyExists: an object with this name already exists."""


class NotFoundError(ClusterError):
    """404: the object, or its namespace, does not exist."""


class InvalidError(ClusterError):
    """422 Invalid or 400 Bad Request; `causes` are `(field, message)` pairs, field may be ''."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 causes: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message, status=status, reason=reason)
        self.causes = list(causes or [])


def parse_status(body: bytes | str | None) -> dict[str, Any]:
    """The API server's `Status` object from an error body, or {} when the body is not one."""
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "Status" else {}


def error_from_status(status: int, body: bytes | str | None, *, api_url: str, action: str,
                      http_reason: str | None = None,
                      retry_after: str | None = None) -> ClusterError:
    """Classify an HTTP error answer of the API server.

    `action` names what was attempted ("list networkpolicies"), used when the server sent no
    message of its own. Guarantees: 429 and every 5xx are `TransientClusterError`; 409 is
    `ConflictError` (`AlreadyExistsError` when the reason says so); 404 `NotFoundError`;
    422 and 400 `InvalidError` with the server's causes; everything else
    `PermanentClusterError`. The message is the server's own when it sent one, since it
    names the object and the field (that is what kubectl shows too).
    """
    doc = parse_status(body)
    reason = doc.get("reason") or http_reason or ""
    server_message = str(doc.get("message") or "").strip()
    label = f"{status} {http_reason}".strip() if http_reason else str(status)
    fallback = f"The Kubernetes API at {api_url} answered {label} to: {action}."
    message = server_message or fallback

    if status == 429:
        seconds = _seconds(retry_after)
        wait = f"retry in {seconds:g} s" if seconds is not None else "retry shortly"
        detail = f": {server_message}" if server_message else ""
        return TransientClusterError(
            f"The Kubernetes API at {api_url} is throttling requests (429 Too Many Requests)"
            f"{detail}; {wait}.",
            status=status, reason=reason or "TooManyRequests", retry_after=seconds,
        )
    if status >= 500:
        detail = f": {server_message}" if server_message else ""
        return TransientClusterError(
            f"The Kubernetes API at {api_url} failed with {label} while trying to {action}"
            f"{detail}. This is usually temporary; try again.",
            status=status, reason=reason, retry_after=_seconds(retry_after),
        )
    if status == 409:
        cls = AlreadyExistsError if reason == "AlreadyExists" else ConflictError
        return cls(message, status=status, reason=reason)
    if status == 404:
        return NotFoundError(message, status=status, reason=reason or "NotFound")
    if status in (400, 422):
        return InvalidError(message, status=status, reason=reason, causes=_causes(doc))
    if status == 401:
        return PermanentClusterError(
            f"The Kubernetes API at {api_url} rejected the credentials (401 Unauthorized); "
            "check the token or client certificate of the configured context.",
            status=status, reason=reason or "Unauthorized",
        )
    return PermanentClusterError(message, status=status, reason=reason)


def _causes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    details = doc.get("details") or {}
    causes = details.get("causes") if isinstance(details, dict) else None
    if not isinstance(causes, list):
        return []
    return [
        (str(cause.get("field") or ""), str(cause.get("message") or cause.get("reason") or ""))
        for cause in causes if isinstance(cause, dict)
    ]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date; callers fall back to their own backoff
        return None
