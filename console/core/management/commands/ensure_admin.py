import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from console.core.models import Role, RoleBinding


class Command(BaseCommand):
    help = "Create the first platform admin if there is no user yet, printing its password once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        users = get_user_model().objects
        if users.exists():
            self.stdout.write("Users exist already; no account created.")
            return
        password = secrets.token_urlsafe(12)
        user = users.create_superuser(username=username, email="", password=password)
        RoleBinding.objects.create(user=user, role=Role.PLATFORM_ADMIN)
        self.stdout.write(self.style.SUCCESS(
            f"Created platform admin {username!r} with password {password!r}. "
            "It is shown only now; change it under /admin/ or with `manage.py changepassword`."
        ))
