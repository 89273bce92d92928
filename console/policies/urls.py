from django.urls import path

from console.policies import views as policies

urlpatterns = [
    path("", policies.policy_list, name="policy_list"),
    path("new/", policies.policy_create, name="policy_create"),
    path("new/diff/", policies.policy_review_diff, name="policy_create_diff"),
    # "-" can never start a namespace name, so no policy URL can collide with these.
    path("-/jobs/<int:job_id>/", policies.policy_job, name="policy_job"),
    path("<str:namespace>/<str:name>/", policies.policy_detail_view, name="policy_detail"),
    path("<str:namespace>/<str:name>/reach/", policies.policy_reach, name="policy_reach"),
    path("<str:namespace>/<str:name>/yaml/", policies.policy_yaml, name="policy_yaml"),
    path("<str:namespace>/<str:name>/edit/", policies.policy_edit, name="policy_edit"),
    path("<str:namespace>/<str:name>/edit/diff/", policies.policy_review_diff,
         name="policy_edit_diff"),
    path("<str:namespace>/<str:name>/rules/", policies.policy_rules, name="policy_rules"),
    path("<str:namespace>/<str:name>/delete/", policies.policy_delete, name="policy_delete"),
]
