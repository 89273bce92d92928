from django.conf import settings
from django.core import checks

from console.sso.mapping import MappingError, parse_group_roles


@checks.register()
def group_roles_are_readable(app_configs, **kwargs):
    """A mistyped OIDC_GROUP_ROLES stops the console at start, not at someone's sign-in."""
    try:
        parse_group_roles(settings.OIDC_GROUP_ROLES)
    except MappingError as exc:
        return [checks.Error(str(exc), id="sso.E001")]
    if settings.OIDC_ISSUER and not settings.OIDC_RP_CLIENT_ID:
        return [checks.Error("OIDC_ISSUER is set but OIDC_CLIENT_ID is not.", id="sso.E002")]
    return []
