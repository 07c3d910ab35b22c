from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
]
