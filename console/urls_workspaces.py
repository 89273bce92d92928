from django.urls import path

from console.views import workspaces

urlpatterns = [
    path("", workspaces.workspace_list, name="workspace_list"),
    path("<str:workspace>/", workspaces.workspace_detail, name="workspace_detail"),
]
