from django.urls import path

from console.views import traffic

urlpatterns = [
    path("", traffic.traffic_list, name="traffic_list"),
]
