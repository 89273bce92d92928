from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "console.traffic"
    verbose_name = "Traffic paths"

    def ready(self) -> None:
        from console.traffic import jobs  # noqa: F401  (registers this feature's job handlers)
