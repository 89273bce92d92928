"""Recording changes in the history, with their YAML and reachability delta."""

from __future__ import annotations

from typing import Any

import yaml

from console.core.models import Change, Job, JobStatus
from isolation import text
from isolation.review.impact import Impact

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: much faster

# The History entry of a platform admin's guardrail override, linked to the job of the change it
# let through; that job's own entry is a separate row.
OVERRIDE_KIND = "guardrail-override"

SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation",
                 "selfLink")


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without server-set metadata and status: what `kubectl apply` wants."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_FIELDS}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": metadata}


def to_yaml(objects: list[dict[str, Any]]) -> str:
    """Multi-document YAML of `objects`, cleaned, in a stable order."""
    docs = [clean(o) for o in objects]
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False) if docs else ""


def record_change(*, kind: str, target: str, summary: str, author=None, author_label: str = "",
                  workspace: str = "", project: str = "",
                  before: list[dict[str, Any]] = (), after: list[dict[str, Any]] = (),
                  generated_before: list[dict[str, Any]] = (),
                  generated_after: list[dict[str, Any]] = (),
                  impact: Impact | None = None, job: Job | None = None,
                  status: str = JobStatus.SUCCEEDED, reverts: Change | None = None) -> Change:
    """Add one history entry. `before`/`after` are the changed objects as they were and are."""
    return Change.objects.create(
        kind=kind, target=target, summary=summary,
        author=author if author is not None and author.is_authenticated else None,
        author_label=author_label, workspace=workspace, project=project, status=status,
        before_yaml=to_yaml(list(before)), after_yaml=to_yaml(list(after)),
        generated_before_yaml=to_yaml(list(generated_before)),
        generated_after_yaml=to_yaml(list(generated_after)),
        before_objects=[clean(o) for o in before], after_objects=[clean(o) for o in after],
        # its warnings kept as sentences, said in each reader's language (scoped_delta)
        reachability_delta=text.dump_all(impact.to_dict()) if impact else {}, job=job,
        reverts=reverts,
    )
