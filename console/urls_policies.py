from django.urls import path

from console.views import policies

urlpatterns = [
    path("", policies.policy_list, name="policy_list"),
]
