from django.apps import AppConfig
from django.core.signals import request_finished, request_started

from isolation import collector


class CoreConfig(AppConfig):
    """Users' roles, jobs, the change history's records and platform settings.

    The label stays `console`, the app's name before the features moved into packages of their
    own, so existing tables and migration records are used as they are."""

    name = "console.core"
    label = "console"
    verbose_name = "Tenant network isolation console"

    def ready(self) -> None:
        from django.utils import translation

        from console.core import jobs  # noqa: F401  (registers the check-cluster job and the runner task)
        from isolation import text

        # The domain's sentences are said in the language of the request that shows them.
        text.set_translator(translation.gettext, translation.ngettext)
        # A full garbage collection that a request's large reads made due runs once its
        # response is sent (isolation.collector).
        request_started.connect(_request_begins, dispatch_uid="collector-request-begins")
        request_finished.connect(_request_ends, dispatch_uid="collector-request-ends")


def _request_begins(**kwargs) -> None:
    collector.request_begins()


def _request_ends(**kwargs) -> None:
    collector.request_ends()
