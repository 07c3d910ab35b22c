from django.urls import path

from . import views

app_name = "physicians"

urlpatterns = [
    path("", views.physician_list, name="list"),
]
