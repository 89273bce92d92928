from django.contrib import admin

from console.core.models import Change, Job, PlatformSettings, RoleBinding


@admin.register(RoleBinding)
class RoleBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "workspace", "project", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "workspace", "project")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "target", "status", "progress", "requested_by", "created_at")
    list_filter = ("status", "kind")
    readonly_fields = ("celery_task_id", "attempts", "started_at", "heartbeat_at", "finished_at")


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "target", "author", "author_label", "status")
    list_filter = ("kind", "status")
    search_fields = ("target", "workspace", "project")


admin.site.register(PlatformSettings)
