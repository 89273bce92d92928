from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "console.history"
    verbose_name = "Change history"

    def ready(self) -> None:
        from console.history import jobs  # noqa: F401  (registers this feature's job handlers)
