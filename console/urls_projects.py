from django.urls import path

from console.views import projects

urlpatterns = [
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
