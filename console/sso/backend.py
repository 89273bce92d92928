"""Sign-in with the OpenID provider: the account is found or created by username, and its role
bindings follow the user's groups (console/sso/mapping.py) at every sign-in.

Who may sign in:
- an account the provider created earlier, or one a platform admin invited (an account with no
  password, made on the Members page): always, unless deactivated;
- a new user: only when one of their groups (or the `*` entry) maps to a role; the account is
  created then. Someone the mapping gives no role is refused and told to ask for an invitation;
- never an account with a local password: a provider user named like a local account does not
  take it over.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from console.core.models import Role, RoleBinding
from console.members.forms import removal_refusal
from console.sso import provider
from console.sso.mapping import Grant, GroupRoles, parse_group_roles

logger = logging.getLogger(__name__)


def group_roles() -> GroupRoles:
    return parse_group_roles(settings.OIDC_GROUP_ROLES)


def refuse(request, message: str) -> None:
    """Tell the user on the sign-in page why single sign-on did not let them in."""
    request.sso_refused = True
    messages.error(request, message)


def sync_roles(user, grants: frozenset[Grant], managed: frozenset[Grant]) -> None:
    """Add the grants the user's groups bring; remove managed bindings their groups no longer
    bring. The last platform admin's binding stays (see removal_refusal)."""
    current = {Grant(b.role, b.workspace, b.project): b for b in RoleBinding.objects.filter(user=user)}
    for grant in sorted(grants - current.keys()):
        RoleBinding.objects.create(user=user, role=grant.role, workspace=grant.workspace,
                                   project=grant.project)
    stale = (managed & current.keys()) - grants
    if not stale:
        return
    # Lock the admin bindings, as the Members page does, so two removals cannot both pass.
    list(RoleBinding.objects.select_for_update().filter(role=Role.PLATFORM_ADMIN))
    for grant in sorted(stale):
        binding = current[grant]
        refusal = removal_refusal(binding)
        if refusal:
            logger.warning("single sign-on kept a binding its groups no longer bring: %s", refusal)
            continue
        binding.delete()


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with endpoints from discovery, ID tokens checked for
    issuer and audience, and users matched by username."""

    def __init__(self, *args, **kwargs) -> None:
        # The endpoints are looked up when a sign-in needs them, so local sign-in and a console
        # without a provider never touch the network.
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: provider.endpoint("token_endpoint"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: provider.endpoint("userinfo_endpoint"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: provider.endpoint("jwks_uri"))

    def authenticate(self, request, **kwargs):
        if request is None or not provider.enabled() or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        # Deactivated accounts lose their sessions, as with a password.
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss", "").rstrip("/") != settings.OIDC_ISSUER:
            raise SuspiciousOperation("The ID token was issued by another provider.")
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo endpoint's claims; the verified ID token's when the provider publishes
        no userinfo endpoint (Dex before v2.2x puts groups and names in the ID token only)."""
        if not provider.discovery().get("userinfo_endpoint"):
            return payload
        return super().get_userinfo(access_token, id_token, payload)

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        username = str(claims.get(settings.OIDC_USERNAME_CLAIM) or "")
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            username = ""
        if not username or len(username) > 150:
            refuse(self.request, f"The identity provider sent no usable "
                                 f"{settings.OIDC_USERNAME_CLAIM} for you.")
            return None
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        mapping = group_roles()
        grants = mapping.grants_for(str(group) for group in groups)
        with transaction.atomic():
            user = self.UserModel.objects.select_for_update().filter(username=username).first()
            if user is None and not grants:
                refuse(self.request, f"You signed in as {username}, but none of your groups has "
                                     "a role in this console. Ask a platform admin to invite you.")
                return None
            if user is not None and user.has_usable_password():
                refuse(self.request, f"{username} is a local account of this console: sign in "
                                     "with its password.")
                return None
            if user is not None and not user.is_active:
                refuse(self.request, f"The account {username} is deactivated.")
                return None
            if user is None:
                user = self.UserModel.objects.create_user(username)  # no password: SSO only
                logger.info("single sign-on created the account %s", username)
            email = claims.get("email") or ""
            if email and user.email != email:
                user.email = email
                user.save(update_fields=["email"])
            sync_roles(user, grants, mapping.managed)
        return user
