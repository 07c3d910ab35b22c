from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def follow_up_list(request: HttpRequest) -> HttpResponse:
    return render(request, "placeholder.html", {"title": "Follow-ups"})
