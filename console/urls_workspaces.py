from django.urls import path

from console.views import workspaces

urlpatterns = [
    path("", workspaces.workspace_list, name="workspace_list"),
    path("new/", workspaces.workspace_create, name="workspace_create"),
    path("assign/", workspaces.workspace_assign, name="workspace_assign"),
    path("<str:workspace>/", workspaces.workspace_detail, name="workspace_detail"),
    path("<str:workspace>/isolation/preview/", workspaces.workspace_isolation_preview,
         name="workspace_isolation_preview"),
    path("<str:workspace>/isolation/", workspaces.workspace_isolation,
         name="workspace_isolation"),
]
