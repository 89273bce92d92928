"""Users of the load bench (bench/console_load_bench.py): each arrives signed in (or signs in
once), then opens the list pages in turn, as people browsing the console do. Run by locust,
never imported by the console or the tests."""

from __future__ import annotations

import itertools
import os
import re
import sys

from locust import HttpUser, between, task

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_pages import PAGES  # noqa: E402

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Sessions made beforehand (BENCH_SESSIONS, comma-separated), one per user; without them each
# user signs in with BENCH_USER / BENCH_PASSWORD.
SESSIONS = [key for key in os.environ.get("BENCH_SESSIONS", "").split(",") if key]
_arrivals = itertools.count()


class ConsoleUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.index = 0
        if SESSIONS:
            session = SESSIONS[next(_arrivals) % len(SESSIONS)]
            self.client.headers["Cookie"] = f"sessionid={session}"
            return
        form = self.client.get("/login/", name="sign in (form)")
        token = CSRF.search(form.text).group(1)
        self.client.post("/login/", name="sign in", data={
            "username": os.environ.get("BENCH_USER", "alice"),
            "password": os.environ.get("BENCH_PASSWORD", "bench-password"),
            "csrfmiddlewaretoken": token}, headers={"Referer": self.host + "/login/"})

    @task
    def browse(self) -> None:
        name, path = PAGES[self.index % len(PAGES)]
        self.index += 1
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/login/" in response.url:
                response.failure("signed out")
