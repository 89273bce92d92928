from django.apps import AppConfig


class GuardrailsConfig(AppConfig):
    name = "console.guardrails"
    verbose_name = "Guardrails"

    def ready(self) -> None:
        from console.guardrails import jobs  # noqa: F401  (registers the periodic evaluation)
