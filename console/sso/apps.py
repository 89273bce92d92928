from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "console.sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from console.sso import checks  # noqa: F401  (registers the system checks)
