from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from console import cluster


@login_not_required
@require_GET
def healthz(request):
    """Readiness for probes: database, Redis and cluster as words, no addresses or secrets."""
    checks = {"database": _database(), "redis": _redis(), "cluster": _cluster()}
    ready = checks["database"] == "ok" and checks["redis"] in {"ok", "not configured"}
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks},
                        status=200 if ready else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "error"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        return "ok"
    except redis.RedisError:
        return "error"


def _cluster() -> str:
    if not cluster.configured():
        return "not configured"
    return "ok" if cluster.status(fresh=True).healthy else "unreachable"
