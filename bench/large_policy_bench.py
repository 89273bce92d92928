"""Time the policy pages on one very large NetworkPolicy.

    .venv/bin/python bench/large_policy_bench.py [--rules 20000] [--runs 3] [--profile PAGE]
                                                 [--in-process] [--watched]

The demo cluster is served by the API simulator in a process of its own, as `make run` serves
it (`--in-process`: from a thread of this process, as in the tests); the pages are called
through Django's test client, so the figures are server time: wall seconds, and the CPU seconds
of the console's process (the figure to compare on a busy machine; with `--in-process` the
simulator's thread is counted too). With `--watched`, `manage.py watch_cluster` runs beside
(Redis at BENCH_REDIS_URL, default db 13 of the local Redis, emptied first) and the pages read
the watched cluster model instead of listing the cluster, as deployed. Measured, each as the median of `--runs`, beside its target:

- the editor's review (action=review) of the largest draft of one-ipBlock-and-one-port ingress
  rules that fits MAX_YAML_BYTES (about 1 MiB): time, and the size of the page beyond the
  draft it carries back in the editor. Cold (the first review of the process: what it keeps
  between reviews is dropped before each run), twice: in the demo's namespace as it is, and
  once the namespace holds the two large policies below (about 35,000 rules more to read for
  the cluster's side). Then, beside those: warm (the draft edited in one
  rule after a review of it, as a user edits and reviews again: a new draft each run, the
  cluster unchanged), warm after the cluster changed (the same, with another small policy
  written to the namespace between the two reviews), and the same text again (the apply's
  check, or a review sent twice);
- the detail page of a policy of `--rules` such rules (created straight in the cluster, as
  kubectl would): time and response size;
- the History detail of the change that created the review draft's policy (applied through
  the editor, so recorded as a user's change would be): time and response size.

`--profile review|cold|changed|detail|history` prints the cProfile top 60 of one more request
of that page (review: of a draft edited once more; cold: the first review again; changed: a
review after another policy was written to the namespace); BENCH_PROFILE_SORT=tottime sorts
by own time, BENCH_PROFILE_CALLEES=<pattern> adds what the functions matching it call.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import start_simulator  # noqa: E402

NAMESPACE = "shop"
TIME_TARGET = 1.0           # seconds, the review of a 1 MiB document
SIZE_TARGET = 1024 * 1024   # bytes: "well under 1 MB"


def rule(i: int) -> str:
    """One ingress rule in flow style (the most rules per byte the editor accepts)."""
    return (f"  - {{from: [{{ipBlock: {{cidr: 10.{(i >> 16) & 255}.{(i >> 8) & 255}."
            f"{i & 255}/32}}}}], ports: [{{port: {1024 + i % 60000}}}]}}\n")


def draft_text(name: str, rules: int) -> str:
    head = (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {name}\n  namespace: {NAMESPACE}\nspec:\n  podSelector:\n"
            f"    matchLabels: {{app: storefront}}\n  policyTypes: [Ingress]\n  ingress:\n")
    return head + "".join(rule(i) for i in range(rules))


def fitting_rules(name: str, limit: int) -> int:
    """The most rules whose draft stays within `limit` bytes."""
    low, high = 1, 100_000
    while low < high:
        middle = (low + high + 1) // 2
        if len(draft_text(name, middle).encode()) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def policy_object(name: str, rules: int) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"podSelector": {"matchLabels": {"app": "storefront"}},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"ipBlock": {
                         "cidr": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"}}],
                         "ports": [{"port": 1024 + i % 60000}]} for i in range(rules)]}}


def setup_django(url: str, data_dir: str, watched: bool = False) -> None:
    """Django for this process (and for the watcher's): SQLite in `data_dir`; the cache in
    Redis at BENCH_REDIS_URL (emptied first) when `watched`, else in this process."""
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13") if watched else ""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "console.settings", "KUBE_API_URL": url, "KUBECONFIG": "",
        "DATA_DIR": data_dir, "DATABASE_URL": f"sqlite:///{data_dir}/bench.sqlite3",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
    })
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    import django

    django.setup()
    from django.core.management import call_command

    if redis_url:
        from console.celery import app

        app.conf.task_always_eager = True   # the apply the bench makes runs here: no worker

    call_command("migrate", verbosity=0)


def problem(response) -> str:
    """The status of a failed request, with the review's errors when it has some."""
    body = response.content.decode(errors="replace")
    start = body.find('id="review-errors"')
    return f"{response.status_code}: {body[start:start + 1500] if start >= 0 else body[:500]}"


def timed(call, runs: int, before=None) -> tuple[float, int, float]:
    """Median wall seconds, response size and median CPU seconds of this process of `runs`
    calls, each after `before()` when given (not
    timed)."""
    times, cpu, response = [], [], None
    for _ in range(runs):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = call()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), len(response.content), statistics.median(cpu)


def timed_warm(review, edited, runs: int, between=None) -> tuple[float, int, float]:
    """`timed` of reviews of a draft edited after a review of it (that one not timed), with
    `between()` called after that review when given (not timed either)."""
    times, cpu, response = [], [], None
    for _ in range(runs):
        review(edited())
        if between is not None:
            between()
        draft = edited()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = review(draft)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), len(response.content), statistics.median(cpu)


def show(label: str, seconds: float, size: int, cpu: float, time_target: float | None) -> None:
    target = f"(target < {time_target:.1f} s)" if time_target else "(no time target)"
    verdict = "ok" if size < SIZE_TARGET and (not time_target or seconds < time_target) else "MISS"
    print(f"  {label:<42} {seconds:6.2f} s wall {cpu:6.2f} s CPU {target:<18} "
          f"{size / 1e6:6.2f} MB (target < {SIZE_TARGET / 1e6:.2f} MB)  {verdict}")


def profile(call) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative"))
    stats.print_stats(60)
    if os.environ.get("BENCH_PROFILE_CALLEES"):
        stats.print_callees(os.environ["BENCH_PROFILE_CALLEES"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=("review", "cold", "changed", "detail", "history"))
    parser.add_argument("--in-process", action="store_true",
                        help="serve the simulator from a thread of this process (as the tests "
                             "do) instead of a process of its own (as `make run` does)")
    parser.add_argument("--watched", action="store_true",
                        help="run manage.py watch_cluster beside (Redis at BENCH_REDIS_URL): "
                             "pages read the watched cluster model, as deployed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, simulator(args.in_process) as url:
        setup_django(url, tmp, args.watched)
        with watched_model(args.watched):
            run(args)


@contextlib.contextmanager
def simulator(in_process: bool):
    """The URL of the demo cluster's simulator, served as long as the context lasts."""
    if in_process:
        from kubesim import SimulatorServer

        server = SimulatorServer(seed="demo")
        server.start()
        try:
            yield server.url
        finally:
            server.stop()
        return
    process, url = start_simulator(None)
    try:
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def watched_model(watched: bool):
    """With `watched`, `manage.py watch_cluster` running beside this process (as deployed), and
    this process's snapshots read from the model it publishes once it is alive."""
    if not watched:
        yield
        return
    from console.core import cluster

    watcher = subprocess.Popen([sys.executable, "manage.py", "watch_cluster"], cwd=ROOT,
                               env=dict(os.environ), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while cluster.model_version() is None:
            if watcher.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("watch_cluster did not publish the cluster model")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(watcher.pid, signal.SIGTERM)
        try:
            watcher.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(watcher.pid, signal.SIGKILL)
            watcher.wait()


def run(args) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from console.core.models import Change
    from console.policies import services
    from console.policies.draft import digest_of, forget
    from tests.console.policies.support import create

    client = Client()
    client.force_login(User.objects.create_superuser("alice"))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs; median of {args.runs} runs")
    print("the simulator in " + ("this process" if args.in_process else "a process of its own")
          + "; snapshots " + ("read from the watched model (watch_cluster beside)"
                              if args.watched else "listed from the API server"))

    review_name = "huge-review"
    fits = fitting_rules(review_name, settings.MAX_YAML_BYTES)
    text = draft_text(review_name, fits)
    print(f"review draft: {fits:,} rules in {len(text.encode()):,} bytes "
          f"(MAX_YAML_BYTES {settings.MAX_YAML_BYTES:,})")

    # The review measured is a create under another name, so its diff is the whole object;
    # first in the demo's namespace as it is, then once it holds both large policies below.
    other = text.replace(f"name: {review_name}", "name: huge-review-2")

    def review(draft: str = other):
        response = client.post(reverse("policy_create"), {"action": "review", "yaml": draft})
        assert response.status_code == 200, problem(response)
        return response

    edits = iter(range(1, 1_000_000))

    def edited() -> str:
        """`other` with the port of one rule changed, a new port each call."""
        return other.replace("port: 1025}", f"port: {30_000 + next(edits)}}}", 1)

    def dropped() -> None:
        """What the process keeps dropped and freed: a cold review pays for neither (a new
        process has nothing to free)."""
        forget()
        gc.collect()

    def cold():
        dropped()
        return review()

    draft_size = len(other.encode())
    label = f"review, {draft_size / 2**20:.2f} MiB ({fits:,} rules)"
    # The editor page carries the draft itself back in its text area: the review is the rest.
    seconds, size, cpu = timed(review, args.runs, before=dropped)
    show(f"{label}, cold", seconds, size - draft_size, cpu, TIME_TARGET)
    print(f"  {'':<42} (the namespace holding the demo's policies only)")

    detail_name = "huge-detail"
    create(policy_object(detail_name, args.rules))
    services.forget()

    def detail():
        response = client.get(reverse("policy_detail", args=[NAMESPACE, detail_name]))
        assert response.status_code == 200, problem(response)
        return response

    # The change that created a policy: applied through the editor, as a user would.
    response = client.post(reverse("policy_create"), {
        "action": "apply", "yaml": text, "reviewed": digest_of(text, "")})
    assert response.status_code == 302, problem(response)
    change = Change.objects.filter(target=f"{NAMESPACE}/{review_name}").latest("pk")

    def history():
        response = client.get(reverse("history_detail", args=[change.pk]))
        assert response.status_code == 200, problem(response)
        return response

    pages = {"review": lambda: review(edited()), "cold": cold, "detail": detail, "history": history}
    seconds, size, cpu = timed(review, args.runs, before=dropped)
    show(f"  cold, beside {args.rules + fits:,} rules", seconds, size - draft_size, cpu,
         TIME_TARGET)
    print(f"  {'':<42} (the namespace holding the two large policies: every review below)")
    seconds, size, cpu = timed_warm(review, edited, args.runs)
    show("  warm (same cluster, draft edited)", seconds, size - draft_size, cpu,
         TIME_TARGET)
    changes = iter(range(1, 1_000_000))

    def cluster_changed() -> None:
        """Another policy written to the namespace, as a colleague or a controller would."""
        create(policy_object(f"colleague-{next(changes)}", 3))

    seconds, size, cpu = timed_warm(review, edited, args.runs, between=cluster_changed)
    show("  warm, after the cluster changed", seconds, size - draft_size, cpu, TIME_TARGET)
    review()
    seconds, size, cpu = timed(review, args.runs)
    show("  the same text again", seconds, size - draft_size, cpu, TIME_TARGET)
    print(f"  {'':<42} (page {size / 1e6:.2f} MB with the draft it echoes; "
          "the size shown is the rest)")
    show(f"detail page, {args.rules:,} rules", *timed(detail, args.runs), None)
    show(f"history detail, {fits:,}-rule create", *timed(history, args.runs), None)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    if args.profile == "changed":
        review(edited())
        cluster_changed()
        profile(lambda: review(edited()))
    elif args.profile == "cold":
        dropped()
        profile(review)
    elif args.profile:
        profile(pages[args.profile])


if __name__ == "__main__":
    main()
