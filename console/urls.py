from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console.core import language, views
from console.tenancy import urls as tenancy_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("oidc/", include("console.sso.urls")),
    # The header's language switcher; open before sign-in too, so the login page can switch.
    # It also saves a signed-in user's choice on their account.
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("policies/", include("console.policies.urls")),
    path("workspaces/", include(tenancy_urls.workspace_patterns)),
    path("projects/", include(tenancy_urls.project_patterns)),
    path("traffic/", include("console.traffic.urls")),
    path("reachability/", include("console.reachability.urls")),
    path("history/", include("console.history.urls")),
    path("jobs/<int:job_id>/", views.job_status, name="job_status"),
    path("jobs/check-cluster/", views.check_cluster, name="job_check_cluster"),
    path("members/", include("console.members.urls")),
    path("guardrails/", include("console.guardrails.urls")),
    path("settings/", include(tenancy_urls.platform_patterns)),
    path("admin/", admin.site.urls),
]
