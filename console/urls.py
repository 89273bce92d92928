from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console.views import health, jobs, members, platform, shell

urlpatterns = [
    path("", shell.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("policies/", include("console.urls_policies")),
    path("workspaces/", include("console.urls_workspaces")),
    path("projects/", include("console.urls_projects")),
    path("traffic/", include("console.urls_traffic")),
    path("reachability/", include("console.urls_reachability")),
    path("history/", include("console.urls_history")),
    path("jobs/<int:job_id>/", jobs.job_status, name="job_status"),
    path("jobs/check-cluster/", jobs.check_cluster, name="job_check_cluster"),
    path("members/", members.member_list, name="member_list"),
    path("members/<int:binding_id>/delete/", members.member_delete, name="member_delete"),
    path("settings/", platform.platform_settings, name="platform_settings"),
    path("admin/", admin.site.urls),
]
