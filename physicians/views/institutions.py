"""Reference data: institutions (also the liaisons' referral sources) and products."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.roles import medical_affairs_required
from liaison_crm.pagination import paginate

from .. import selectors
from ..filters import InstitutionFilter, ProductFilter
from ..forms import InstitutionForm, ProductForm
from ..models import ClinicalTrial, Institution, Physician, Product, TrialSite
from .common import RecordCreateView, RecordUpdateView

PHYSICIANS_SHOWN = 50  # on an institution's page; the list has the rest


def institution_list(request: HttpRequest) -> HttpResponse:
    qs = Institution.objects.visible_to(request.user)
    filterset = InstitutionFilter(request.GET, queryset=qs, request=request)
    qs, sort = selectors.apply_sort(filterset.qs, request.GET.get("sort"), ("name", "city", "state"), "name")
    page = paginate(qs, request.GET.get("page"))
    return render(
        request,
        "physicians/institution_list.html",
        {
            "title": "Institutions",
            "page_obj": page,
            "filter": filterset,
            "current_sort": sort,
            "can_edit": request.user.sees_medical_affairs,
        },
    )


def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(Institution.objects.visible_to(request.user), pk=pk)
    physicians = list(
        Physician.objects.visible_to(request.user)
        .filter(institution=institution)
        .select_related("owner")
        .order_by("last_name", "first_name", "id")[: PHYSICIANS_SHOWN + 1]
    )
    sites = (
        list(
            TrialSite.objects.visible_to(request.user)
            .filter(institution=institution)
            .select_related("trial", "principal_investigator")
        )
        if request.user.sees_medical_affairs
        else []
    )
    return render(
        request,
        "physicians/institution_detail.html",
        {
            "title": str(institution),
            "institution": institution,
            "physicians": physicians[:PHYSICIANS_SHOWN],
            "more_physicians": len(physicians) > PHYSICIANS_SHOWN,
            "sites": sites,
            "can_edit": request.user.sees_medical_affairs,
        },
    )


class InstitutionCreate(RecordCreateView):
    model = Institution
    form_class = InstitutionForm
    title = "New institution"
    list_url_name = "physicians:institutions"
    detail_url_name = "physicians:institution_detail"


class InstitutionEdit(RecordUpdateView):
    model = Institution
    form_class = InstitutionForm
    detail_url_name = "physicians:institution_detail"


institution_create = medical_affairs_required(InstitutionCreate.as_view())
institution_edit = medical_affairs_required(InstitutionEdit.as_view())


@medical_affairs_required
def product_list(request: HttpRequest) -> HttpResponse:
    qs = Product.objects.visible_to(request.user).select_related("therapeutic_area")
    filterset = ProductFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("name", "id"), request.GET.get("page"))
    return render(request, "physicians/product_list.html", {"title": "Products", "page_obj": page, "filter": filterset})


@medical_affairs_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.visible_to(request.user).select_related("therapeutic_area"), pk=pk)
    trials = list(ClinicalTrial.objects.visible_to(request.user).filter(product=product))
    return render(
        request, "physicians/product_detail.html", {"title": str(product), "product": product, "trials": trials}
    )


class ProductCreate(RecordCreateView):
    model = Product
    form_class = ProductForm
    title = "New product"
    list_url_name = "physicians:products"
    detail_url_name = "physicians:product_detail"


class ProductEdit(RecordUpdateView):
    model = Product
    form_class = ProductForm
    detail_url_name = "physicians:product_detail"


product_create = medical_affairs_required(ProductCreate.as_view())
product_edit = medical_affairs_required(ProductEdit.as_view())
