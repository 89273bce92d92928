from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Tenant network isolation console"

    def ready(self) -> None:
        # Register every job handler in web and worker processes alike.
        from console import (  # noqa: F401
            jobs,
            jobs_history,
            jobs_isolation,
            jobs_policies,
            jobs_traffic,
        )
