from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "console.tenancy"
    verbose_name = "Workspaces, projects and their isolation"

    def ready(self) -> None:
        from console.tenancy import jobs  # noqa: F401  (registers this feature's job handlers)
