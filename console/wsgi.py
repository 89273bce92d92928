import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
application = get_wsgi_application()
# Fail at start, not at the first request: reading an empty SECRET_KEY raises ImproperlyConfigured.
assert settings.SECRET_KEY
