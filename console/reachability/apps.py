from django.apps import AppConfig


class ReachabilityConfig(AppConfig):
    name = "console.reachability"
    verbose_name = "Reachability"
