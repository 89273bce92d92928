"""Workspaces, projects and platform settings: their URL patterns, included by console.urls."""

from django.urls import path

from console.tenancy.views import platform, projects, workspaces

project_patterns = [
    path("", projects.project_list, name="project_list"),
    path("<str:project>/", projects.project_detail, name="project_detail"),
    path("<str:project>/reachability/", projects.project_reachability_view,
         name="project_reachability"),
    path("<str:project>/isolation/preview/", projects.project_isolation_preview,
         name="project_isolation_preview"),
    path("<str:project>/isolation/", projects.project_isolation, name="project_isolation"),
    path("<str:project>/allowlist/new/<str:kind>/", projects.project_entry_new,
         name="project_entry_new"),
    path("<str:project>/allowlist/<str:name>/edit/", projects.project_entry_edit,
         name="project_entry_edit"),
    path("<str:project>/allowlist/<str:name>/delete/", projects.project_entry_delete,
         name="project_entry_delete"),
]

workspace_patterns = [
    path("", workspaces.workspace_list, name="workspace_list"),
    path("new/", workspaces.workspace_create, name="workspace_create"),
    path("assign/", workspaces.workspace_assign, name="workspace_assign"),
    path("<str:workspace>/", workspaces.workspace_detail, name="workspace_detail"),
    path("<str:workspace>/isolation/preview/", workspaces.workspace_isolation_preview,
         name="workspace_isolation_preview"),
    path("<str:workspace>/isolation/", workspaces.workspace_isolation,
         name="workspace_isolation"),
]

platform_patterns = [
    path("", platform.platform_settings, name="platform_settings"),
]
