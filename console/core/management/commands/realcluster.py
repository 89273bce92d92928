"""`realcluster`: a real kube-apiserver (with etcd) on 127.0.0.1, seeded like the simulator."""

from __future__ import annotations

import shutil
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from cluster.errors import ClusterError
from cluster.gateway import Gateway
from cluster.testenv import RealApiServer, TestenvError
from console.core.realcluster import apply_rbac
from console.core.realcluster import seed as seed_cluster
from kubesim.demo import demo_objects
from kubesim.objects import console_crds


class Command(BaseCommand):
    help = ("Start a real kube-apiserver and etcd (built from the Kubernetes Go modules by "
            "tools/kube-testenv), install the console's CRDs, optionally write the demo cluster "
            "into it, print the kubeconfig path and serve until interrupted.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=6443, help="secure port (default 6443)")
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo",
                            help="what the cluster contains besides the CRDs (default demo)")
        parser.add_argument("--kubeconfig-out", metavar="FILE",
                            help="also copy the admin kubeconfig to FILE")
        parser.add_argument("--dir", metavar="DIR", help="etcd data, certificates and kubeconfigs "
                            "(default: a new temporary directory)")

    def handle(self, *args, port: int, seed: str, kubeconfig_out: str | None, dir: str | None,
               **options):
        server = RealApiServer(port=port, directory=dir)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        try:
            self.stderr.write("Starting kube-apiserver (the first run builds it; that takes minutes)...")
            server.start()
            gateway = Gateway.from_env({"KUBECONFIG": str(server.admin_kubeconfig)})
            objects = demo_objects() if seed == "demo" else console_crds()
            created = seed_cluster(gateway, objects)
            apply_rbac(gateway)
            kubeconfig = str(server.admin_kubeconfig)
            if kubeconfig_out:
                shutil.copyfile(kubeconfig, kubeconfig_out)
                kubeconfig = kubeconfig_out
            self.stdout.write(f"Real API server on {server.url} ({created} objects written).")
            self.stdout.write(f"KUBECONFIG={kubeconfig}")
            self.stdout.write(f"Least-privilege (the console's ServiceAccount): {server.limited_kubeconfig}")
            self.stdout.flush()
            stop.wait()
        except (TestenvError, ClusterError, OSError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            server.stop()



