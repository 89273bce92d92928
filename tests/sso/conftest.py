"""Real OpenID providers on 127.0.0.1, and a browser-like sign-in through their login forms.

Two providers, each test runs against both:
- `dex`: Dex built from the Go module proxy (tools/dex/build.sh), with its LDAP connector
  against testldap, a small directory of static users and groups (Dex's static passwords carry
  no groups). This Dex puts names and groups in the ID token and has no userinfo endpoint.
- `oidc-provider`: the npm package (tools/oidc-provider/), which serves userinfo, requires
  PKCE when asked for it and sends `preferred_username`.

Both sign RS256 ID tokens and publish discovery and JWKS. The console's side runs in Django's
test client; the provider's login form is filled over HTTP with a requests session, as a
browser would.
"""

from __future__ import annotations

import html
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "console", "console-test-secret"
CALLBACK = "http://testserver/oidc/callback/"
LDAP_BASE = "dc=example,dc=org"

# grace: platform admins; henry: team-a admins and shop developers; ivan: no mapped group;
# judy: shop developers (her groups change during a test by restarting the provider).
USERS = {
    "grace": {"password": "grace-pw", "email": "grace@example.com", "groups": ["platform-admins"]},
    "henry": {"password": "henry-pw", "email": "henry@example.com",
              "groups": ["team-a", "shop-devs", "unrelated"]},
    "ivan": {"password": "ivan-pw", "email": "ivan@example.com", "groups": ["marketing"]},
    "judy": {"password": "judy-pw", "email": "judy@example.com", "groups": ["shop-devs"]},
}
GROUP_ROLES = ("platform-admins=platform_admin; team-a=workspace_admin:team-a; "
               "shop-devs=project_admin:shop; auditors=viewer")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(args: list[str], log: Path, marker: str, what: str) -> subprocess.Popen:
    """Start a server with its output in `log`, and return once it printed `marker`."""
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while marker not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} did not start: {log.read_text()}")
        time.sleep(0.05)
    return process


def _wait_for_discovery(issuer: str, provider: Provider) -> None:
    """Dex says it listens just before it does: wait until discovery answers."""
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).raise_for_status()
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                provider.stop()
                raise
            time.sleep(0.05)


@dataclass
class Provider:
    kind: str
    issuer: str
    username_claim: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(timeout=10)


def _start_dex(tmp: Path, users: dict) -> Provider:
    build = subprocess.run(["bash", str(ROOT / "tools/dex/build.sh")], check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    directory = Path(build)
    name = uuid.uuid4().hex[:8]
    ldap_port, dex_port = _free_port(), _free_port()
    users_path = tmp / f"ldap-{name}.json"
    users_path.write_text(json.dumps({"base": LDAP_BASE, "users": users}))
    ldap = _spawn([str(directory / "testldap"), "-listen", f"127.0.0.1:{ldap_port}",
                   "-config", str(users_path)], tmp / f"ldap-{name}.log", "Listening on",
                  "testldap")
    issuer = f"http://127.0.0.1:{dex_port}/dex"
    config = {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": {"http": f"127.0.0.1:{dex_port}"},
        "frontend": {"dir": str(directory / "web"), "issuer": "Test Dex"},
        "logger": {"level": "info"},
        "oauth2": {"skipApprovalScreen": True},
        "staticClients": [{"id": CLIENT_ID, "secret": CLIENT_SECRET, "name": "Console",
                           "redirectURIs": [CALLBACK]}],
        "connectors": [{
            "type": "ldap", "id": "ldap", "name": "Directory",
            "config": {
                "host": f"127.0.0.1:{ldap_port}", "insecureNoSSL": True,
                "usernamePrompt": "Username",
                "userSearch": {"baseDN": f"ou=People,{LDAP_BASE}", "filter": "(objectClass=person)",
                               "username": "uid", "idAttr": "uid", "emailAttr": "mail",
                               "nameAttr": "uid"},
                "groupSearch": {"baseDN": f"ou=Groups,{LDAP_BASE}",
                                "filter": "(objectClass=groupOfNames)",
                                "userAttr": "DN", "groupAttr": "member", "nameAttr": "cn"},
            },
        }],
    }
    config_path = tmp / f"dex-{name}.yaml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    try:
        dex = _spawn([str(directory / "dex"), "serve", str(config_path)],
                     tmp / f"dex-{name}.log", "listening (http)", "Dex")
    except RuntimeError:
        ldap.terminate()
        raise
    provider = Provider("dex", issuer, "name", [dex, ldap])
    _wait_for_discovery(issuer, provider)
    return provider


def _start_oidc_provider(tmp: Path, users: dict) -> Provider:
    script = subprocess.run(["bash", str(ROOT / "tools/oidc-provider/install.sh")], check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    config_path = tmp / f"provider-{uuid.uuid4().hex[:8]}.json"
    config_path.write_text(json.dumps({
        "issuer": issuer, "port": port, "users": users,
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "redirect_uris": [CALLBACK]}],
    }))
    process = _spawn(["node", script, str(config_path)], config_path.with_suffix(".log"),
                     "listening ", "oidc-provider")
    return Provider("oidc-provider", issuer, "preferred_username", [process])


STARTERS: dict[str, Callable[[Path, dict], Provider]] = {
    "dex": _start_dex, "oidc-provider": _start_oidc_provider}


@pytest.fixture(scope="session", params=sorted(STARTERS))
def provider_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def oidc_provider(provider_kind, tmp_path_factory) -> Iterator[Provider]:
    provider = STARTERS[provider_kind](tmp_path_factory.mktemp(provider_kind), USERS)
    yield provider
    provider.stop()


@pytest.fixture
def restartable_provider(provider_kind, tmp_path) -> Iterator:
    """A provider of this test's own, restarted with other users' groups by calling it."""
    running: list[Provider] = []

    def start(users: dict) -> Provider:
        if running:
            running.pop().stop()
        running.append(STARTERS[provider_kind](tmp_path, users))
        return running[-1]

    yield start
    for provider in running:
        provider.stop()


@pytest.fixture
def sso_settings(settings):
    """Point the console at a provider; the discovery cache is dropped around each test."""
    from console.sso import provider as sso_provider

    def configure(provider: Provider, **overrides) -> None:
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_PROVIDER_NAME = "Test IdP"
        settings.OIDC_GROUP_ROLES = GROUP_ROLES
        settings.OIDC_USERNAME_CLAIM = provider.username_claim
        for name, value in overrides.items():
            setattr(settings, name, value)
        sso_provider.forget()

    yield configure
    sso_provider.forget()


def provider_login(authorize_url: str, username: str, password: str) -> str:
    """Fill the provider's login form like a browser and return the URL it sends the browser
    back to (the console's callback, with code and state)."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (301, 302, 303):
            url = urljoin(url, response.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            continue
        assert response.status_code == 200, response.text
        assert 'name="password"' in response.text, response.text
        action = html.unescape(response.text.split('action="', 1)[1].split('"', 1)[0])
        posted = browser.post(urljoin(url, action), data={"login": username, "password": password},
                              allow_redirects=False, timeout=10)
        assert posted.status_code in (302, 303), posted.text
        url = urljoin(url, posted.headers["Location"])
        if url.startswith(CALLBACK):
            return url
    raise AssertionError(f"the provider never sent the browser back; last URL {url}")


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
