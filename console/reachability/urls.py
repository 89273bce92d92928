from django.urls import path

from console.reachability import views as reachability

urlpatterns = [
    path("", reachability.reachability, name="reachability"),
    path("cell/", reachability.cell, name="reachability_cell"),
    path("matrix/<int:job_id>/", reachability.matrix_job, name="reachability_matrix_job"),
    path("check/", reachability.check, name="reachability_check"),
    path("what-if/", reachability.what_if, name="reachability_whatif"),
    path("what-if/<int:job_id>/", reachability.what_if_job, name="reachability_whatif_job"),
]
