"""The in-cluster manifests grant what the console uses, and no more than it writes."""

from pathlib import Path

import yaml

from cluster.kinds import KINDS, SETUP_ONLY_KINDS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
WRITTEN = {"NetworkPolicy", "Workspace", "NamespaceNetworkPolicy", "Namespace",
           "ConnectivityExpectation", "ClusterConnectivityExpectation"}


def _console_rules():
    docs = list(yaml.safe_load_all((DEPLOY / "rbac.yaml").read_text()))
    role = next(d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "isolation-console")
    return role["rules"]


def _verbs(kind) -> set[str]:
    verbs: set[str] = set()
    for rule in _console_rules():
        if kind.group in rule["apiGroups"] and kind.plural in rule["resources"]:
            verbs |= set(rule["verbs"])
    return verbs


CONSOLE_KINDS = [kind for kind in KINDS.values() if kind.kind not in SETUP_ONLY_KINDS]


def test_every_kind_the_console_reads_is_readable():
    for kind in CONSOLE_KINDS:
        assert {"get", "list"} <= _verbs(kind), kind.kind


def test_only_intent_and_network_policies_are_writable():
    for kind in CONSOLE_KINDS:
        writes = _verbs(kind) & {"create", "update", "patch", "delete"}
        if kind.key in WRITTEN:
            assert writes, kind.kind
        else:
            assert not writes, f"{kind.kind} should be read-only, has {sorted(writes)}"


def test_every_manifest_is_valid_yaml_with_kind_and_name():
    for path in DEPLOY.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["kind"] and doc["metadata"]["name"], path
