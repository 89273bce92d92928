from django.urls import path

from console.traffic import views as traffic

urlpatterns = [
    path("", traffic.traffic_list, name="traffic_list"),
    path("explain/", traffic.traffic_explain, name="traffic_explain"),
    path("<str:kind>/<str:namespace>/<str:name>/", traffic.traffic_detail, name="traffic_detail"),
    path("<str:kind>/<str:namespace>/<str:name>/diagram/", traffic.traffic_diagram,
         name="traffic_diagram"),
    path("<str:kind>/<str:namespace>/<str:name>/diagram.svg", traffic.traffic_diagram_svg,
         name="traffic_diagram_svg"),
    path("<str:kind>/<str:namespace>/<str:name>/fix/", traffic.traffic_fix, name="traffic_fix"),
]
