"""Traffic Paths pages: cold and cached drawing, and whole requests, printed (never asserted).

    .venv/bin/python bench/traffic_page_bench.py [--repeat 20]

Runs the console in-process (SQLite in a temporary directory, eager jobs) against the built-in
simulator seeded with the demo cluster. For every exposed Service and Ingress it measures:

- cold:   trace and draw the SVG from a read cluster, as the render-diagram job does on a miss;
- cached: compute the input digest and fetch the drawing from the cache, as a page does on a hit;
- svg:    GET of the download URL with the digest (served from the cache, no cluster read);

and, once, the cluster read plus policy compilation every page starts with and whole detail
requests with a cold and a warm cache. Targets (issue 8): cold < 200 ms, cached < 20 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup(data_dir: str, api_url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "console.settings", "DATA_DIR": data_dir,
        "DATABASE_URL": f"sqlite:///{data_dir}/bench.sqlite3", "KUBE_API_URL": api_url,
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
        "REDIS_URL": ""})
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(samples) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


def _timed(fn, repeat: int, before=None) -> list[float]:
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()

    from kubesim import SimulatorServer

    server = SimulatorServer(seed="demo")
    server.start()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            _setup(data_dir, server.url)
            _run(options.repeat)
    finally:
        server.stop()


def _run(repeat: int) -> None:
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from console.traffic import services as traffic
    from isolation.paths.trace import exposures

    print(f"Traffic Paths pages on the demo cluster (simulator), {repeat} runs each\n")
    read = _timed(traffic.load_context, repeat)
    print(f"read cluster + compile policies (every page)   {_ms(read)}")
    ctx = traffic.load_context()
    client_ip = traffic.parse_client("").text
    for exposure in exposures(ctx.snapshot):
        ref = traffic.Ref.of(exposure)
        cold = _timed(lambda ref=ref: traffic.draw(ctx, ref, client_ip), repeat,
                      before=cache.clear)
        digest, svg = traffic.draw(ctx, ref, client_ip)
        cached = _timed(lambda ref=ref: traffic.cached_drawing_for(
            traffic.digest_of(ctx, ref, client_ip), ref), repeat)
        print(f"{exposure.kind:12} {exposure.key:45} svg {len(svg) / 1024:5.1f} KiB")
        print(f"    cold   {_ms(cold)}")
        print(f"    cached {_ms(cached)}")

    User.objects.create_superuser("bench", password="bench-pw-1")
    browser = Client()
    browser.login(username="bench", password="bench-pw-1")
    url = reverse("traffic_detail", args=["service", "billing", "payments-api"])

    def get(path: str, **query) -> None:
        response = browser.get(path, query)
        assert response.status_code == 200, response.status_code

    cold_page = _timed(lambda: get(url), repeat, before=cache.clear)
    warm_page = _timed(lambda: get(url), repeat)
    digest = traffic.digest_of(traffic.load_context(), traffic.Ref("service", "billing",
                                                                   "payments-api"), client_ip)
    svg_url = reverse("traffic_diagram_svg", args=["service", "billing", "payments-api"])
    download = _timed(lambda: get(svg_url, digest=digest), repeat)
    listing = _timed(lambda: get(reverse("traffic_list")), repeat)
    print("\nwhole requests (billing/payments-api)")
    print(f"    detail, cold cache (draw job runs)        {_ms(cold_page)}")
    print(f"    detail, warm cache                        {_ms(warm_page)}")
    print(f"    SVG download by digest (cache only)       {_ms(download)}")
    print(f"    list of every exposure, warm cache        {_ms(listing)}")


if __name__ == "__main__":
    main()
