"""What the pages of the medical-affairs side share: the MSL guard, a service's errors onto a form,
the form page (422 when a POST is refused), and the create/edit pages of the records whose form
saves the record itself (Django's CreateView/UpdateView, scoped by `visible_to`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import CreateView, UpdateView

from accounts.roles import require

msl_required = require(lambda u: u.is_msl, "Only Medical Science Liaisons record visits, insights and inquiries.")

FORM_TEMPLATE = "physicians/form.html"


def apply_errors(form: BaseForm, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: field errors where the field exists."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_page(request: HttpRequest, template: str, context: dict, *, invalid: bool = False) -> HttpResponse:
    """A page with a form: 422 when it shows a refused POST, so htmx and tests can tell."""
    return render(request, template, context, status=422 if invalid else 200)


def service_form(
    request: HttpRequest,
    form: BaseForm,
    save: Callable[[dict[str, Any]], Any],
    *,
    message: str | Callable[[Any], str],
    success_url: str | Callable[[Any], str],
    title: str,
    cancel_url: str,
) -> HttpResponse:
    """The page of a form whose valid data goes to a service (`save(cleaned_data)`, which returns
    the record): the service's ValidationError is shown on the form, success redirects with a
    message (either may depend on the record)."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, message(obj) if callable(message) else message)
            return redirect(success_url(obj) if callable(success_url) else success_url)
    return form_page(
        request,
        FORM_TEMPLATE,
        {"title": title, "form": form, "cancel_url": cancel_url},
        invalid=request.method == "POST",
    )


class RecordFormMixin:
    """Create or edit one record with a ModelForm that saves it: the record is looked up in what
    the user may see (404 otherwise), a refused form is a 422, success says so and opens the
    record's page. Role checks stay on the routed view (`medical_affairs_required(View.as_view())`)."""

    template_name = FORM_TEMPLATE
    detail_url_name: str
    select_related: tuple[str, ...] = ()
    success_message = "{object} saved."

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user).select_related(*self.select_related)

    def get_success_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.object.pk])

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, self.success_message.format(object=self.object))
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 422
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.get_title(), cancel_url=self.get_cancel_url(), **kwargs)


class RecordCreateView(RecordFormMixin, CreateView):
    title: str
    list_url_name: str

    def get_title(self) -> str:
        return self.title

    def get_cancel_url(self) -> str:
        return reverse(self.list_url_name)


class RecordUpdateView(RecordFormMixin, UpdateView):
    title = "Edit {object}"

    def get_title(self) -> str:
        return self.title.format(object=self.object)

    def get_cancel_url(self) -> str:
        return reverse(self.detail_url_name, args=[self.object.pk])
