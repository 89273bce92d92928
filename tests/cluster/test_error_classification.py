"""How API server answers become error classes, for answers the simulator cannot produce.

Everything the simulator can produce (404, 409, 422, 429, 5xx, hangs, refused connections) is
tested through the real client in test_errors.py.
"""

import json

import pytest

from cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    NotFoundError,
    PermanentClusterError,
    TransientClusterError,
    error_from_status,
)

URL = "https://k8s.example:6443"


def status_body(code, reason, message, **details):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                       "reason": reason, "message": message, "details": details})


@pytest.mark.parametrize(("code", "reason", "cls"), [
    (429, "TooManyRequests", TransientClusterError),
    (500, "InternalError", TransientClusterError),
    (502, "", TransientClusterError),
    (503, "ServiceUnavailable", TransientClusterError),
    (504, "Timeout", TransientClusterError),
    (409, "Conflict", ConflictError),
    (409, "AlreadyExists", AlreadyExistsError),
    (404, "NotFound", NotFoundError),
    (422, "Invalid", InvalidError),
    (400, "BadRequest", InvalidError),
    (401, "Unauthorized", PermanentClusterError),
    (403, "Forbidden", PermanentClusterError),
    (405, "MethodNotAllowed", PermanentClusterError),
    (410, "Expired", PermanentClusterError),
    (415, "UnsupportedMediaType", PermanentClusterError),
])
def test_each_status_maps_to_the_class_that_says_what_to_do(code, reason, cls):
    error = error_from_status(code, status_body(code, reason, "boom"), api_url=URL,
                              action="list pods")

    assert type(error) is cls
    assert error.status == code
    assert error.retryable is (cls is TransientClusterError)


def test_forbidden_keeps_the_servers_message_naming_resource_and_user():
    message = ('networkpolicies.networking.k8s.io "deny-all" is forbidden: User "alice" cannot '
               'delete resource "networkpolicies" in API group "networking.k8s.io" in the '
               'namespace "shop"')

    error = error_from_status(403, status_body(403, "Forbidden", message), api_url=URL,
                              action="delete networkpolicies.networking.k8s.io shop/deny-all")

    assert error.message == message


def test_unauthorized_tells_the_user_to_check_credentials():
    error = error_from_status(401, status_body(401, "Unauthorized", "Unauthorized"),
                              api_url=URL, action="list pods")

    assert "credentials" in error.message
    assert URL in error.message


def test_throttling_says_when_to_retry():
    error = error_from_status(429, status_body(429, "TooManyRequests", "slow down"),
                              api_url=URL, action="list pods", retry_after="3")

    assert error.retry_after == 3
    assert "retry in 3 s" in error.message


def test_a_body_that_is_not_a_status_still_yields_an_actionable_message():
    error = error_from_status(403, "<html>denied by proxy</html>", api_url=URL,
                              action="list pods", http_reason="Forbidden")

    assert error.message == f"The Kubernetes API at {URL} answered 403 Forbidden to: list pods."


def test_bad_request_carries_the_servers_causes():
    body = status_body(400, "BadRequest", "bad port", causes=[
        {"field": "spec.ports[0].port", "message": "must be a number"},
        {"reason": "FieldValueInvalid"},
    ])

    error = error_from_status(400, body, api_url=URL, action="create services")

    assert error.causes == [("spec.ports[0].port", "must be a number"), ("", "FieldValueInvalid")]
