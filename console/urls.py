from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from console.views import (
    health,
    history,
    jobs,
    members,
    policies,
    projects,
    reachability,
    shell,
    traffic,
    workspaces,
)

urlpatterns = [
    path("", shell.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("policies/", policies.policy_list, name="policy_list"),
    path("workspaces/", workspaces.workspace_list, name="workspace_list"),
    path("workspaces/<str:workspace>/", workspaces.workspace_detail, name="workspace_detail"),
    path("projects/", projects.project_list, name="project_list"),
    path("projects/<str:project>/", projects.project_detail, name="project_detail"),
    path("traffic/", traffic.traffic_list, name="traffic_list"),
    path("reachability/", reachability.reachability, name="reachability"),
    path("history/", history.history, name="history"),
    path("jobs/<int:job_id>/", jobs.job_status, name="job_status"),
    path("jobs/check-cluster/", jobs.check_cluster, name="job_check_cluster"),
    path("members/", members.member_list, name="member_list"),
    path("members/<int:binding_id>/delete/", members.member_delete, name="member_delete"),
    path("admin/", admin.site.urls),
]
