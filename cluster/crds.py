"""Install the console's CRDs (deploy/crds/: Workspace, NamespaceNetworkPolicy and the connectivity
expectations) into a cluster."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cluster.errors import NotFoundError, TransientClusterError
from isolation.yamlio import YamlInputError, load_documents

if TYPE_CHECKING:  # the gateway imports the kubernetes client; this module must not
    from cluster.gateway import Gateway

CRD_DIR = Path(__file__).resolve().parent.parent / "deploy" / "crds"
SERVED_TIMEOUT = 30.0


@dataclass(frozen=True)
class CRDResult:
    """What install_crds did with one CRD: `action` is created, updated or unchanged."""

    name: str
    action: str


class CRDFileError(ValueError):
    """A CRD manifest under deploy/crds/ that cannot be used; the message names the file."""


def load_crds(directory: Path = CRD_DIR) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions in `directory`/*.yaml, in file name order.

    Raises CRDFileError naming the file when a file is not YAML, holds something other than a
    CustomResourceDefinition, or the directory has none.
    """
    crds: list[dict[str, Any]] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            documents = load_documents(path.read_text(encoding="utf-8"))
        except (OSError, YamlInputError) as exc:
            raise CRDFileError(f"{path}: {exc}") from None
        for doc in documents:
            data = doc.data
            if not isinstance(data, dict) or data.get("kind") != "CustomResourceDefinition":
                raise CRDFileError(
                    f"{path}, document {doc.index}: expected a CustomResourceDefinition")
            crds.append(data)
    if not crds:
        raise CRDFileError(f"{directory} holds no CustomResourceDefinition (*.yaml)")
    return crds


def install_crds(gateway: Gateway, directory: Path = CRD_DIR, *, dry_run: bool = False,
                 timeout: float = SERVED_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep) -> list[CRDResult]:
    """Create or update each CRD of `directory` by server-side apply, then wait until served.

    Guarantees: after a normal return every CRD's resource is served by the API server (so
    Workspaces and NamespaceNetworkPolicies can be listed at once); a CRD that is not served
    within `timeout` seconds raises TransientClusterError. With `dry_run` nothing is
    changed and nothing is awaited; the results say what would happen.
    """
    results: list[CRDResult] = []
    for crd in load_crds(directory):
        name = crd["metadata"]["name"]
        try:
            before: dict[str, Any] | None = gateway.get_object("CustomResourceDefinition", name)
        except NotFoundError:
            before = None
        after = gateway.apply(crd, force=True, dry_run=dry_run)
        if before is None:
            action = "created"
        elif _essence(before) == _essence(after):
            action = "unchanged"
        else:
            action = "updated"
        results.append(CRDResult(name, action))
    if not dry_run:
        for crd in load_crds(directory):
            _wait_until_served(gateway, crd, timeout, sleep)
    return results


def _wait_until_served(gateway: Gateway, crd: dict[str, Any], timeout: float,
                       sleep: Callable[[float], None]) -> None:
    spec = crd.get("spec") or {}
    group = spec.get("group", "")
    plural = (spec.get("names") or {}).get("plural", "")
    versions = [v["name"] for v in spec.get("versions") or [] if v.get("served", True)]
    deadline = time.monotonic() + timeout
    while not all(gateway.serves(group, version, plural) for version in versions):
        if time.monotonic() >= deadline:
            raise TransientClusterError(
                f"The CRD {crd['metadata']['name']} was installed but {plural}.{group} is not "
                f"served after {timeout:g} s; check the API server's logs and run "
                "`python manage.py install_crds` again.")
        sleep(0.2)


def _essence(obj: dict[str, Any]) -> tuple[Any, Any, Any]:
    # Compared instead of resourceVersion, which a dry-run update does not change.
    metadata = obj.get("metadata") or {}
    return obj.get("spec"), metadata.get("labels"), metadata.get("annotations")
