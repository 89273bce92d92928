from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "console.members"
    verbose_name = "Members"
