from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "console.policies"
    verbose_name = "Network policies"

    def ready(self) -> None:
        from console.policies import jobs  # noqa: F401  (registers this feature's job handlers)
