from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import phi_required


@phi_required
def worklist(request: HttpRequest) -> HttpResponse:
    return render(request, "placeholder.html", {"title": "Case worklist"})
