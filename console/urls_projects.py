from django.urls import path

from console.views import projects

urlpatterns = [
    path("", projects.project_list, name="project_list"),
    path("<str:project>/", projects.project_detail, name="project_detail"),
]
