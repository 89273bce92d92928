"""What the console owns: role bindings, jobs, the change history and platform settings.

Isolation intent itself lives in the cluster (see DESIGN §2); nothing here duplicates it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from isolation import text


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform-admin", _("Platform admin")
    WORKSPACE_ADMIN = "workspace-admin", _("Workspace admin")
    PROJECT_ADMIN = "project-admin", _("Project admin")
    VIEWER = "viewer", _("Viewer")


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
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


def keep_sentences(row: models.Model, **columns) -> bool:
    """Each of `columns` of `row` holding a sentence (an `isolation.text.Text`) kept in the
    row's `said` as data (`text.dump`), the column given the text `columns[name]` makes of it;
    whether any was."""
    kept = False
    for name, as_text in columns.items():
        value = getattr(row, name)
        if isinstance(value, text.Text):
            row.said = {**(row.said or {}), name: text.dump(value)}
            setattr(row, name, as_text(value))
            kept = True
    return kept


def shown(row: models.Model, name: str) -> str:
    """Column `name` of `row` in the reader's language: the sentence kept in `said` for it,
    else the column as stored."""
    if name in (row.said or {}):
        return text.load(row.said[name])
    return getattr(row, name)


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
    message = models.TextField(blank=True)      # as its requester reads it (core.jobs)
    error = models.TextField(blank=True)        # likewise
    # `message` and `error` as sentences (isolation.text.dump), to be said in the language of
    # whoever reads them (`shown_message`, `shown_error`); a fixed message has no entry here:
    # `message` holds its English msgid.
    said = models.JSONField(default=dict, blank=True)
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
    def shown_message(self) -> str:
        """The message in the reader's language: the sentence kept in `said`, else `message`
        taken as a message id (the fixed progress messages are stored as their msgid; any
        other text, such as a row written before `said` existed, shows as it was stored)."""
        if "message" in self.said:
            return text.load(self.said["message"])
        return text.Text(self.message) if self.message else ""

    @property
    def shown_error(self) -> str:
        """The error in the reader's language when it was kept as a sentence, else as stored."""
        if "error" in self.said:
            return text.load(self.said["error"])
        return self.error

    @property
    def shown_target(self) -> str:
        """What the job works on, in the reader's language when it was given as a sentence
        ("every exposure"); a name ("shop/deny-all") as stored."""
        return shown(self, "target")

    @property
    def shown_result(self) -> dict:
        """`result` with the sentences kept in it (isolation.text.dump_all) said in the reader's
        language."""
        return text.load_all(self.result or {})

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
    summary = models.TextField(blank=True)      # in the language of whoever recorded it
    # `summary` as a sentence (isolation.text.dump), to be said in the language of whoever
    # reads it (`shown_summary`); a summary recorded as plain text has no entry here.
    said = models.JSONField(default=dict, blank=True)
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

    def save(self, *args, **kwargs) -> None:
        """A summary or a target given as a sentence (an `isolation.text.Text`) is kept in
        `said` as well; the summary's column then holds the sentence in the language active
        while it is saved, the target's its English (what the History filters compare)."""
        kept = keep_sentences(self, summary=str, target=text.english)
        if kept and kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "said"}
        super().save(*args, **kwargs)

    @property
    def shown_summary(self) -> str:
        """The summary in the reader's language: the sentence kept in `said`, else the column
        as recorded (a summary written as plain text, or before `said` existed)."""
        return shown(self, "summary")

    @property
    def shown_target(self) -> str:
        """What the change was made to, in the reader's language when it was recorded as a
        sentence ("3 namespaces"); a name ("shop/deny-all") as stored."""
        return shown(self, "target")

    @property
    def author_name(self) -> str:
        return self.author.get_username() if self.author else (self.author_label or "unknown")


class PlatformSettings(models.Model):
    """Console-wide settings; a single row (pk=1)."""

    always_allowed_namespaces = models.JSONField(default=list, blank=True)
    detect_ingress_namespaces = models.BooleanField(default=True)
    snat_cidrs = models.JSONField(default=list, blank=True)
    cni_mode = models.CharField(max_length=8, blank=True,
                                choices=[("", _("Detect")), ("routed", _("Routed")), ("ipip", "IPIP"),
                                         ("vxlan", "VXLAN")])
    engine_mode = models.CharField(max_length=12, default="console",
                                   choices=[("console", _("Console generates policies")),
                                            ("kubesphere", _("KubeSphere generates policies"))])

    class Meta:
        verbose_name_plural = "platform settings"

    def __str__(self) -> str:
        return "Platform settings"

    @classmethod
    def load(cls) -> PlatformSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class ExpectationStatus(models.TextChoices):
    HOLDS = "holds", _("Holds")
    VIOLATED = "violated", _("Violated")
    UNCHECKED = "unchecked", _("Not checked")


class ExpectationState(models.Model):
    """The last evaluated state of one connectivity expectation of the cluster (the
    expectation itself lives in the cluster as a CRD object; this is what the console found).

    `since` is when the current status began; `change` the history entry that caused a
    violation, when the console knows it. `namespaces` are those either end can name: what
    decides which tenants see a platform expectation.
    """

    name = models.CharField(max_length=512, unique=True)   # "ns/name", or "name" (cluster)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=253, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=ExpectationStatus.choices)
    since = models.DateTimeField(default=timezone.now)
    change = models.ForeignKey(Change, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="violations")
    expect = models.CharField(max_length=16, blank=True)
    description = models.TextField(blank=True)
    source = models.TextField(blank=True)         # the `from` end, in words
    destination = models.TextField(blank=True)    # the `to` end, in words
    namespaces = models.JSONField(default=list, blank=True)
    pairs = models.PositiveBigIntegerField(default=0)
    violation_count = models.PositiveBigIntegerField(default=0)
    violations = models.JSONField(default=list, blank=True)   # the first few, explained
    reason = models.TextField(blank=True)          # why it could not be checked
    # `source`, `destination`, `reason` and the violations' reasons (key "violations", in
    # their order) as sentences (isolation.text.dump); the columns above keep their English.
    said = models.JSONField(default=dict, blank=True)
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["namespace", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def cluster_scoped(self) -> bool:
        return not self.namespace

    @property
    def said_source(self) -> str:
        return self._said("source")

    @property
    def said_destination(self) -> str:
        return self._said("destination")

    @property
    def said_reason(self) -> str:
        return self._said("reason")

    @property
    def said_violations(self) -> list[dict]:
        """The explained violations, each reason said in the reader's language when it was
        kept as a sentence."""
        reasons = self.said.get("violations") or []
        if len(reasons) != len(self.violations):
            return [dict(v) for v in self.violations]
        return [{**v, "reason": text.load(reason)}
                for v, reason in zip(self.violations, reasons, strict=True)]

    def _said(self, name: str) -> str:
        """The column `name` in the reader's language: the sentence kept in `said`, else the
        column as stored (a state evaluated before `said` existed)."""
        if name in self.said:
            return text.load(self.said[name])
        return getattr(self, name)

    def visible_to(self, access, workspace_of) -> bool:
        """Whether `access` (console.core.access.Access) may see this expectation: every one
        for global viewers; a project's own for those who see the project; a platform one
        when either end involves a project they see."""
        if access.view_all:
            return True
        if self.namespace:
            return access.can_view_project(self.namespace, workspace_of)
        return any(access.can_view_project(ns, workspace_of) for ns in self.namespaces)


class ExpectationTransition(models.Model):
    """One change of an expectation's status (holds → violated and back), for its timeline."""

    name = models.CharField(max_length=512, db_index=True)
    status = models.CharField(max_length=12, choices=ExpectationStatus.choices)
    previous = models.CharField(max_length=12, blank=True)
    change = models.ForeignKey(Change, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}: {self.previous or 'new'} → {self.status}"


class GuardrailOverride(models.Model):
    """A platform admin's reason to apply one change that breaks a platform expectation.

    Given on the preview, taken once by the change it names (`key`) within a few minutes;
    the history records it with the change.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    key = models.CharField(max_length=512)
    reason = models.TextField()
    expectations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"override of {self.key} by {self.user}"


class UserPreference(models.Model):
    """A user's own settings, made the first time they choose one (so accounts that single
    sign-on creates need nothing at creation). `language` is a code of settings.LANGUAGES,
    checked where it is set (console.core.language), not as model choices: the list of
    languages may grow without a migration."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="preference")
    language = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user}"
