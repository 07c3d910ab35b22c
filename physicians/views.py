from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import medical_affairs_required


@medical_affairs_required
def physician_list(request: HttpRequest) -> HttpResponse:
    return render(request, "placeholder.html", {"title": "Physicians"})
