"""Each user's language: chosen in the header's switcher, kept on their account, and spoken to
them on every page and in the messages of their jobs.

Before sign-in (the sign-in page, the error pages) the language cookie and the browser's
Accept-Language decide, through Django's LocaleMiddleware. Once a user is signed in, the
language saved on their account wins over both; a user who never chose one (every account
single sign-on has just created) has no preference row, and the cookie and browser decide.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from console.core.models import UserPreference


def supported(code: str) -> bool:
    """Whether `code` is one of the console's languages, exactly as LANGUAGES spells it."""
    return code in dict(settings.LANGUAGES)


def saved_language(user) -> str | None:
    """The language saved on `user`'s account, if any (and still one the console speaks)."""
    if user is None or not user.is_authenticated:
        return None
    code = (UserPreference.objects.filter(user_id=user.pk)
            .values_list("language", flat=True).first())
    return code if code and supported(code) else None


def save_language(user, code: str) -> None:
    """Keep `code` as `user`'s language (the preference row is made on first use)."""
    if not supported(code):
        raise ValueError(f"not a language of the console: {code!r}")
    UserPreference.objects.update_or_create(user=user, defaults={"language": code})


def requester_language(user) -> AbstractContextManager:
    """Speak `user`'s saved language inside the block (a job's messages); without one, the
    language already active stays."""
    code = saved_language(user)
    return translation.override(code) if code else nullcontext()


@login_not_required
@require_POST
def set_language(request):
    """The header's switcher: Django's set_language (cookie, redirect to `next`), refusing a
    language the console does not speak, and saving the choice on a signed-in user's account."""
    code = request.POST.get("language", "")
    if not supported(code):
        return render(request, "400.html", status=400)
    response = django_set_language(request)
    if request.user.is_authenticated:
        save_language(request.user, code)
    return response


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in user's saved language replaces what
    LocaleMiddleware chose from the cookie or Accept-Language, and the cookie is brought in line
    so pages shown after signing out keep speaking it.

    It looks in process_view, so requests refused earlier (a CSRF failure, a bad URL) still
    render without touching the session or the database."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        code = getattr(request, "saved_language", None)
        cookie = settings.LANGUAGE_COOKIE_NAME
        # A response that sets the cookie itself (the switcher's) knows better than `code`.
        if code and request.COOKIES.get(cookie) != code and cookie not in response.cookies:
            response.set_cookie(
                cookie, code, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs) -> None:
        request.saved_language = code = saved_language(getattr(request, "user", None))
        if code:
            translation.activate(code)
            request.LANGUAGE_CODE = translation.get_language()
