from django.urls import path

from console.views import reachability

urlpatterns = [
    path("", reachability.reachability, name="reachability"),
]
