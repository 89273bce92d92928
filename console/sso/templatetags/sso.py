from django import template
from django.conf import settings

from console.sso import provider

register = template.Library()


@register.simple_tag
def sso_provider_name() -> str:
    """The provider's display name when single sign-on is configured, else ""."""
    return settings.OIDC_PROVIDER_NAME if provider.enabled() else ""
