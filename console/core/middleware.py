"""What every request passes through before a view: the Content-Security-Policy header, and
refusals of request bodies the console will not read (too large, or text that is not UTF-8).

The policy comes from settings.CONTENT_SECURITY_POLICY (directive -> sources), rendered once.
It is sent on every response, error pages and static files included; a response that already
carries one (a view that needs a narrower policy) keeps its own. With CSP_REPORT_ONLY the same
policy is sent as Content-Security-Policy-Report-Only, so a deployment can watch what would be
blocked before enforcing it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.html import format_html

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def render_policy(directives: Mapping[str, str | list[str] | tuple[str, ...]]) -> str:
    """`{"default-src": "'self'", ...}` as a header value: "default-src 'self'; ..."."""
    parts = []
    for name, sources in directives.items():
        value = sources if isinstance(sources, str) else " ".join(sources)
        parts.append(f"{name} {value}".strip())
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = render_policy(getattr(settings, "CONTENT_SECURITY_POLICY", {}))
        self.header = REPORT_ONLY_HEADER if getattr(settings, "CSP_REPORT_ONLY", False) else HEADER

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and HEADER not in response and REPORT_ONLY_HEADER not in response:
            response[self.header] = self.policy
        return response


# -- requests too large to read --------------------------------------------------------------

TOO_LARGE_STATUS = 413
_TOO_LARGE_PAGE = """<!doctype html>
<html lang="en" data-bs-theme="light">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · Network isolation console</title>
  <link rel="stylesheet" href="{bootstrap}">
  <link rel="stylesheet" href="{console}">
</head>
<body>
<header class="navbar navbar-dark bg-dark px-3 py-2"><a class="navbar-brand fw-semibold" href="/">Network isolation console</a></header>
<main id="main" class="container-fluid px-4 py-3">
<h1 class="h3">{title}</h1>
{fragment}
<p>Go back to keep what you wrote, then {advice}. Nothing was changed in the cluster.</p>
</main>
</body>
</html>
"""
_TOO_LARGE_FRAGMENT = ('<div class="alert alert-danger" role="alert" id="request-too-large">'
                       "<p class=\"mb-0\">{message} A policy may be at most {policy_limit} "
                       "bytes.</p></div>")


class RequestSizeLimitMiddleware:
    """Answer a request the console will not read with a clear 413, never Django's 400.

    Placed before CsrfViewMiddleware, which reads `request.POST` and would otherwise fail with
    RequestDataTooBig before any view. A body whose Content-Length is over
    DATA_UPLOAD_MAX_MEMORY_SIZE is refused unread; the form data of a smaller POST is read
    here, so too many fields (TooManyFieldsSent, TooManyFilesSent) or form data over the limit
    are refused the same way. The same errors raised later by a view are turned into the same
    answer. A full page for a browser; for htmx a fragment with status 200 (htmx swaps only
    successful responses, see console.core.responses.error_status).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = _content_length(request)
        if limit is not None and length > limit:
            return too_large_response(request, length)
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 - read now, as CsrfViewMiddleware will
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
                return too_large_response(request, length, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
            return too_large_response(request, _content_length(request), exception)
        return None


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0


def too_large_message(length: int, exc: Exception | None = None) -> str:
    """What the user is told: the size of the request and the largest size accepted."""
    if isinstance(exc, TooManyFieldsSent):
        return (f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields; "
                "the largest number accepted is "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}.")
    if isinstance(exc, TooManyFilesSent):
        return (f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files; "
                f"the largest number accepted is {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,}.")
    return (f"The request is {length:,} bytes; the largest accepted is "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}.")


def too_large_response(request: HttpRequest, length: int,
                       exc: Exception | None = None) -> HttpResponse:
    """The 413 page, or for an htmx request (not boosted) the fragment alone with status 200."""
    fragment = format_html(_TOO_LARGE_FRAGMENT, message=too_large_message(length, exc),
                           policy_limit=f"{settings.MAX_YAML_BYTES:,}")
    return refusal(request, TOO_LARGE_STATUS, "The request was too large", fragment,
                   "make it smaller")


def refusal(request: HttpRequest, status: int, title: str, fragment: str,
            advice: str) -> HttpResponse:
    """A refused request's page, or for an htmx request (not boosted) the fragment alone with
    status 200 (htmx swaps only successful responses).

    Rendered without templates, session, user or database: it answers before any of them.
    """
    headers = request.headers
    if headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true":
        return HttpResponse(fragment, status=200)
    page = format_html(_TOO_LARGE_PAGE, title=title, fragment=fragment, advice=advice,
                       console=static("console.css"),
                       bootstrap=static("vendor/bootstrap/css/bootstrap.min.css"))
    return HttpResponse(page, status=status)


# -- form text that is not UTF-8 -------------------------------------------------------------

REPLACEMENT = "\ufffd"
_NOT_UTF8_FRAGMENT = ('<div class="alert alert-danger" role="alert" id="request-not-utf8">'
                      '<p class="mb-0">{message}</p></div>')


class StrictFormEncodingMiddleware:
    """Refuse form data that is not valid UTF-8, instead of storing what Django made of it.

    Django decodes form fields with errors="replace", so `caf\xe9` would arrive as "caf\ufffd"
    and be written into the cluster. Form-encoded bodies are decoded again strictly; in
    multipart bodies (file uploads, which are checked by the forms themselves) a field holding
    U+FFFD is refused, since a replaced byte and a typed U+FFFD cannot be told apart.
    Placed after RequestSizeLimitMiddleware, which has read the form data already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            problem = form_encoding_problem(request)
            if problem:
                fragment = format_html(_NOT_UTF8_FRAGMENT, message=problem)
                return refusal(request, 400, "The form held text that is not UTF-8", fragment,
                               "send it again as UTF-8 text")
        return self.get_response(request)


def form_encoding_problem(request: HttpRequest) -> str:
    """Why the POSTed form data is not UTF-8 text, or "" when it is."""
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                      errors="strict")
        except UnicodeDecodeError:
            return ("A field of the form is not valid UTF-8 text (the browser or client sent "
                    "bytes in another encoding); nothing was read.")
        return ""
    for name, values in request.POST.lists():
        if any(REPLACEMENT in value for value in values):
            return (f"The field {name!s} holds U+FFFD, the character that replaces bytes that "
                    "are not valid UTF-8; nothing was read. Send the text as UTF-8.")
    return ""
