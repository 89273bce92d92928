"""The two ends of the code flow: off to the provider, and back with a code."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from console.sso import provider


def _unavailable(request, exc: Exception) -> HttpResponseRedirect:
    messages.error(request, _("Single sign-on is unavailable right now: %(error)s")
                   % {"error": exc})
    return HttpResponseRedirect(reverse("login"))


class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider, with state, nonce and a PKCE challenge kept in the
    session."""

    def __init__(self, *args, **kwargs) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")

    def get(self, request):
        if not provider.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.endpoint("authorization_endpoint")
        except provider.ProviderUnavailable as exc:
            return _unavailable(request, exc)
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """Takes the code back: a state not issued to this session is refused (400); a user the
    backend refused goes back to the sign-in page with the reason."""

    @property
    def failure_url(self) -> str:
        return reverse("login")

    def get(self, request):
        if not provider.enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except provider.ProviderUnavailable as exc:
            return _unavailable(request, exc)

    def login_failure(self):
        if not getattr(self.request, "sso_refused", False):
            messages.error(self.request, _("Single sign-on did not complete. Try again, or sign in "
                                         "with a username and password."))
        return super().login_failure()
