import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

PAGES = ["home", "policy_list", "workspace_list", "project_list", "traffic_list",
         "reachability", "history", "member_list"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_every_page_requires_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_detail_pages_require_login(client):
    for url in [reverse("workspace_detail", args=["x"]), reverse("project_detail", args=["x"]),
                reverse("job_status", args=[1])]:
        assert client.get(url).status_code == 302, url


@pytest.mark.django_db
def test_posts_without_csrf_token_are_refused(no_cluster):
    User.objects.create_user("alice", password="pw-alice-1")
    strict = Client(enforce_csrf_checks=True)
    assert strict.login(username="alice", password="pw-alice-1")
    assert strict.post(reverse("job_check_cluster")).status_code == 403


@pytest.mark.django_db
def test_the_csrf_token_rides_on_body_for_htmx(client, no_cluster):
    User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    body = client.get(reverse("history")).content.decode()
    assert '<body hx-headers=\'{"X-CSRFToken": "' in body


@pytest.mark.django_db
def test_healthz_needs_no_login_and_names_no_addresses(client, settings):
    settings.KUBE_API_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.REDIS_URL = ""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data == {"status": "ok", "database": "ok", "redis": "not configured",
                    "worker": "not configured", "cluster": "unreachable"}
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_reports_a_healthy_demo_cluster(client, demo_cluster):
    data = json.loads(client.get(reverse("healthz")).content)
    assert data["cluster"] == "ok"


@pytest.mark.django_db
def test_pages_say_no_cluster_connected_without_one(client, no_cluster):
    User.objects.create_superuser("alice", password="pw-alice-1")
    client.login(username="alice", password="pw-alice-1")
    response = client.get(reverse("workspace_list"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "No cluster connected" in body
    assert "make run" in body


def test_production_settings_pass_the_deploy_check():
    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"SECRET_KEY": "x" * 20 + "production-key-with-enough-entropy-0123456789",
                "ALLOWED_HOSTS": "console.example.com", "DJANGO_SETTINGS_MODULE": "console.settings"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_serve_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "console.settings"
    result = subprocess.run([sys.executable, "-c", "import console.wsgi"], cwd=settings.BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY setting must not be empty" in result.stderr
    deploy_check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert deploy_check.returncode != 0
    assert "SECRET_KEY" in deploy_check.stdout + deploy_check.stderr


@pytest.mark.django_db
def test_an_oversized_post_gets_an_explanation_not_a_bare_error(no_cluster, settings):
    User.objects.create_superuser("alice", password="pw-alice-1")
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="alice", password="pw-alice-1")
    strict.get(reverse("history"))
    token = strict.cookies["csrftoken"].value
    body = "yaml=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = strict.post(reverse("job_check_cluster"), data=body,
                           content_type="application/x-www-form-urlencoded",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 413
    assert "the largest accepted is" in response.content.decode()


@pytest.mark.django_db
def test_a_post_without_its_token_is_explained(no_cluster):
    User.objects.create_user("alice", password="pw-alice-1")
    strict = Client(enforce_csrf_checks=True)
    strict.login(username="alice", password="pw-alice-1")
    response = strict.post(reverse("job_check_cluster"))
    assert response.status_code == 403
    assert "Reload the page" in response.content.decode()
