from django.urls import path

from console.policies import views as policies


def _kind_routes(prefix: str, name: str) -> list:
    return [path(prefix, policies.kind_detail, name=f"{name}_detail"),
            path(f"{prefix}yaml/", policies.kind_yaml, name=f"{name}_yaml"),
            path(f"{prefix}edit/", policies.kind_edit, name=f"{name}_edit"),
            path(f"{prefix}edit/diff/", policies.policy_review_diff, name=f"{name}_edit_diff"),
            path(f"{prefix}edit/impact/", policies.policy_review_impact,
                 name=f"{name}_edit_impact"),
            path(f"{prefix}delete/", policies.kind_delete, name=f"{name}_delete")]


urlpatterns = [
    path("", policies.policy_list, name="policy_list"),
    path("new/", policies.policy_create, name="policy_create"),
    path("new/diff/", policies.policy_review_diff, name="policy_create_diff"),
    path("new/impact/", policies.policy_review_impact, name="policy_create_impact"),
    # "-" can never start a namespace name, so no policy URL can collide with these.
    path("-/jobs/<int:job_id>/", policies.policy_job, name="policy_job"),
    # Other kinds, by API group and plural: `-/<group>/<plural>/-/<name>/` when cluster-wide
    # ("-" is never a namespace), `-/<group>/<plural>/<namespace>/<name>/` when namespaced.
    *_kind_routes("-/<str:group>/<str:plural>/-/<str:name>/", "policy_kind"),
    *_kind_routes("-/<str:group>/<str:plural>/<str:namespace>/<str:name>/", "policy_kind_ns"),
    path("<str:namespace>/<str:name>/", policies.policy_detail_view, name="policy_detail"),
    path("<str:namespace>/<str:name>/reach/", policies.policy_reach, name="policy_reach"),
    path("<str:namespace>/<str:name>/yaml/", policies.policy_yaml, name="policy_yaml"),
    path("<str:namespace>/<str:name>/edit/", policies.policy_edit, name="policy_edit"),
    path("<str:namespace>/<str:name>/edit/diff/", policies.policy_review_diff,
         name="policy_edit_diff"),
    path("<str:namespace>/<str:name>/edit/impact/", policies.policy_review_impact,
         name="policy_edit_impact"),
    path("<str:namespace>/<str:name>/rules/", policies.policy_rules, name="policy_rules"),
    path("<str:namespace>/<str:name>/delete/", policies.policy_delete, name="policy_delete"),
]
