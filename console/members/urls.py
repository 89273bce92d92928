from django.urls import path

from console.members import views

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("<int:binding_id>/delete/", views.member_delete, name="member_delete"),
]
