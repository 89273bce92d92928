"""The identity provider's endpoints, read once from its discovery document.

Only the issuer is configured; the authorization, token, userinfo and key endpoints come from
`<issuer>/.well-known/openid-configuration`, as every OpenID provider publishes them. Nothing
is fetched until someone signs in with the provider, so the console starts without it.
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_lock = threading.Lock()
_documents: dict[str, dict] = {}


def enabled() -> bool:
    """Single sign-on is offered when an issuer and a client are configured."""
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read (transient: try again later)."""


def discovery() -> dict:
    """The issuer's discovery document, cached per process once it was read."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise ImproperlyConfigured("OIDC_ISSUER is not set.")
    with _lock:
        if issuer in _documents:
            return _documents[issuer]
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration",
                                timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"Cannot read the discovery document of {issuer}: {exc}") from exc
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ImproperlyConfigured(
            f"The discovery document of {issuer} names another issuer: {document.get('issuer')!r}.")
    with _lock:
        _documents[issuer] = document
    return document


def endpoint(name: str) -> str:
    """One endpoint of the discovery document, e.g. `token_endpoint`."""
    value = discovery().get(name)
    if not value:
        raise ProviderUnavailable(f"The provider publishes no {name}.")
    return value


def forget() -> None:
    """Drop cached discovery documents (a provider restarted on another address)."""
    with _lock:
        _documents.clear()
