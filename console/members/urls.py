from django.urls import path

from console.members import views

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("<int:binding_id>/delete/", views.member_delete, name="member_delete"),
    path("users/new/", views.member_user_create, name="member_user_create"),
    path("users/invite/", views.member_user_invite, name="member_user_invite"),
    path("users/<int:user_id>/password/", views.member_user_password,
         name="member_user_password"),
    path("users/<int:user_id>/active/", views.member_user_active, name="member_user_active"),
]
