from django.urls import path

from console.history import views as history

urlpatterns = [
    path("", history.history, name="history"),
    path("export.json", history.history_export, name="history_export"),
    path("<int:change_id>/", history.history_detail, name="history_detail"),
    path("<int:change_id>/diff/", history.history_diff, name="history_diff"),
    path("<int:change_id>/objects.yaml", history.history_objects, name="history_objects"),
    path("<int:change_id>/revert/", history.history_revert, name="history_revert"),
]
