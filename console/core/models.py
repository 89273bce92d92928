"""What the console owns: role bindings, jobs, the change history and platform settings.

Isolation intent itself lives in the cluster (see DESIGN §2); nothing here duplicates it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform-admin", "Platform admin"
    WORKSPACE_ADMIN = "workspace-admin", "Workspace admin"
    PROJECT_ADMIN = "project-admin", "Project admin"
    VIEWER = "viewer", "Viewer"


class RoleBinding(models.Model):
    """Grants a user a role, on the whole platform, one workspace or one project.

    Platform admins have no scope. Workspace admins name a workspace, project admins a project
    (namespace). Viewers may be scoped to a workspace or a project, or to nothing (everything).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="role_bindings")
    role = models.CharField(max_length=20, choices=Role.choices)
    workspace = models.CharField(max_length=253, blank=True)
    project = models.CharField(max_length=253, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "workspace", "project"],
                                    name="unique_role_binding"),
            models.CheckConstraint(
                name="role_binding_scope_matches_role",
                condition=(
                    models.Q(role="platform-admin", workspace="", project="")
                    | models.Q(role="workspace-admin", project="") & ~models.Q(workspace="")
                    | models.Q(role="project-admin", workspace="") & ~models.Q(project="")
                    | models.Q(role="viewer") & (models.Q(workspace="") | models.Q(project=""))
                ),
            ),
        ]
        ordering = ["user__username", "role", "workspace", "project"]

    def __str__(self) -> str:
        scope = self.workspace and f"workspace {self.workspace}" or self.project and f"project {self.project}"
        return f"{self.user} — {self.get_role_display()}" + (f" of {scope}" if scope else "")


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """One unit of background work that changes or inspects the cluster."""

    kind = models.CharField(max_length=64)
    target = models.CharField(max_length=512, blank=True)
    workspace = models.CharField(max_length=253, blank=True, db_index=True)
    project = models.CharField(max_length=253, blank=True, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="jobs")
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    celery_task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}

    @property
    def worker_note(self) -> str:
        """Why no worker is making progress on this job, for its card ("" when one is)."""
        from console.core import worker

        return worker.job_note(self)


class Change(models.Model):
    """The history: one change the console made or repaired, with what it did to reachability."""

    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="changes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="changes")
    author_label = models.CharField(max_length=150, blank=True,
                                    help_text='Who made it when not a user, e.g. "drift repair".')
    kind = models.CharField(max_length=64)
    target = models.CharField(max_length=512)
    workspace = models.CharField(max_length=253, blank=True, db_index=True)
    project = models.CharField(max_length=253, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.SUCCEEDED)
    summary = models.TextField(blank=True)
    before_yaml = models.TextField(blank=True)
    after_yaml = models.TextField(blank=True)
    generated_before_yaml = models.TextField(blank=True)
    generated_after_yaml = models.TextField(blank=True)
    # The objects themselves (intent, or the edited NetworkPolicy), for revert and export.
    before_objects = models.JSONField(default=list, blank=True)
    after_objects = models.JSONField(default=list, blank=True)
    reachability_delta = models.JSONField(default=dict, blank=True)
    reverts = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="reverted_by")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"

    @property
    def author_name(self) -> str:
        return self.author.get_username() if self.author else (self.author_label or "unknown")


class PlatformSettings(models.Model):
    """Console-wide settings; a single row (pk=1)."""

    always_allowed_namespaces = models.JSONField(default=list, blank=True)
    detect_ingress_namespaces = models.BooleanField(default=True)
    snat_cidrs = models.JSONField(default=list, blank=True)
    cni_mode = models.CharField(max_length=8, blank=True,
                                choices=[("", "Detect"), ("routed", "Routed"), ("ipip", "IPIP"),
                                         ("vxlan", "VXLAN")])
    engine_mode = models.CharField(max_length=12, default="console",
                                   choices=[("console", "Console generates policies"),
                                            ("kubesphere", "KubeSphere generates policies")])

    class Meta:
        verbose_name_plural = "platform settings"

    def __str__(self) -> str:
        return "Platform settings"

    @classmethod
    def load(cls) -> PlatformSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
