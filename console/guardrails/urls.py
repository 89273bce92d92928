from django.urls import path

from console.guardrails import views as guardrails

urlpatterns = [
    path("", guardrails.guardrail_list, name="guardrail_list"),
    path("new/", guardrails.guardrail_new, name="guardrail_new"),
    path("override/", guardrails.guardrail_override, name="guardrail_override"),
    path("platform/<str:name>/edit/", guardrails.guardrail_edit, name="guardrail_edit"),
    path("platform/<str:name>/delete/", guardrails.guardrail_delete, name="guardrail_delete"),
    path("project/<str:namespace>/<str:name>/edit/", guardrails.guardrail_edit,
         name="guardrail_edit"),
    path("project/<str:namespace>/<str:name>/delete/", guardrails.guardrail_delete,
         name="guardrail_delete"),
]
