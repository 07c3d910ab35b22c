from django.contrib import admin

from . import services
from .models import (
    ClinicalTrial,
    ContactConsent,
    Insight,
    Institution,
    Interaction,
    IrbApproval,
    MedicalInquiry,
    Physician,
    PhysicianImport,
    Product,
    TherapeuticArea,
    TrainingAttendee,
    TrainingSession,
    TrialCriterion,
    TrialSite,
)


@admin.register(TherapeuticArea)
class TherapeuticAreaAdmin(admin.ModelAdmin):
    list_display = ["name"]
    list_filter: list[str] = []
    search_fields = ["name"]
    list_select_related: list[str] = []


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "state", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "city"]
    list_select_related: list[str] = []


class ContactConsentInline(admin.TabularInline):
    model = ContactConsent
    extra = 0


@admin.register(Physician)
class PhysicianAdmin(admin.ModelAdmin):
    list_display = [
        "last_name",
        "first_name",
        "npi",
        "specialty",
        "institution",
        "kol_tier",
        "owner",
        "last_interaction_at",
        "is_active",
    ]
    list_filter = ["kol_tier", "is_active", "therapeutic_areas"]
    search_fields = ["last_name", "first_name", "=npi"]
    list_select_related = ["institution", "owner"]
    raw_id_fields = ["institution", "owner"]
    inlines = [ContactConsentInline]
    show_full_result_count = False


@admin.register(ContactConsent)
class ContactConsentAdmin(admin.ModelAdmin):
    list_display = ["physician", "channel", "status", "recorded_on"]
    list_filter = ["channel", "status"]
    search_fields = ["physician__last_name", "=physician__npi"]
    list_select_related = ["physician"]
    raw_id_fields = ["physician"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "generic_name", "therapeutic_area", "status"]
    list_filter = ["status", "therapeutic_area"]
    search_fields = ["name", "generic_name"]
    list_select_related = ["therapeutic_area"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "physician", "msl", "team", "channel", "duration_minutes", "unsolicited_request"]
    list_filter = ["channel", "team", "unsolicited_request"]
    search_fields = ["physician__last_name", "topics"]
    list_select_related = ["physician", "msl", "team"]
    raw_id_fields = ["physician", "msl", "trial_site"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    # The admin writes past the services: the last contacts they keep are recomputed here.
    def save_model(self, request, obj, form, change):
        before = Interaction.objects.filter(pk=obj.pk).values_list("physician_id", "team_id").first()
        super().save_model(request, obj, form, change)
        services.refresh_last_contacts([pair for pair in (before, (obj.physician_id, obj.team_id)) if pair])

    def delete_model(self, request, obj):
        pair = (obj.physician_id, obj.team_id)
        super().delete_model(request, obj)
        services.refresh_last_contacts([pair])

    def delete_queryset(self, request, queryset):
        pairs = list(queryset.order_by().values_list("physician_id", "team_id").distinct())
        super().delete_queryset(request, queryset)
        services.refresh_last_contacts(pairs)


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    list_display = ["captured_at", "physician", "theme", "product", "status", "captured_by", "team", "reviewer"]
    list_filter = ["status", "theme", "team", "sentiment"]
    search_fields = ["physician__last_name", "text"]
    list_select_related = ["physician", "product", "captured_by", "team", "reviewer"]
    raw_id_fields = ["physician", "interaction", "captured_by", "reviewer"]
    show_full_result_count = False


@admin.register(MedicalInquiry)
class MedicalInquiryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "physician", "product", "priority", "due_at", "status", "owner", "team"]
    list_filter = ["status", "priority", "team"]
    search_fields = ["physician__last_name", "question"]
    list_select_related = ["physician", "product", "owner", "team"]
    raw_id_fields = ["physician", "owner"]
    show_full_result_count = False


class TrainingAttendeeInline(admin.TabularInline):
    model = TrainingAttendee
    extra = 0


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["held_on", "title", "trainer", "team"]
    list_filter = ["team"]
    search_fields = ["title", "topics"]
    list_select_related = ["trainer", "team"]
    inlines = [TrainingAttendeeInline]


@admin.register(TrainingAttendee)
class TrainingAttendeeAdmin(admin.ModelAdmin):
    list_display = ["name", "session", "region", "attended", "score_before", "score_after"]
    list_filter = ["attended", "region"]
    search_fields = ["name", "email"]
    list_select_related = ["session"]


class _ProtocolInline(admin.TabularInline):
    """Shown, not edited: criteria and IRB approvals change through the trial page's forms
    (research.services: answered criteria are locked, an approval moves the consent version on)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TrialCriterionInline(_ProtocolInline):
    model = TrialCriterion


class IrbApprovalInline(_ProtocolInline):
    model = IrbApproval


@admin.register(ClinicalTrial)
class ClinicalTrialAdmin(admin.ModelAdmin):
    list_display = ["protocol_number", "nct_number", "title", "phase", "status", "product", "sponsor_type"]
    list_filter = ["phase", "status", "sponsor_type", "product"]
    search_fields = ["protocol_number", "nct_number", "title"]
    list_select_related = ["product"]
    inlines = [TrialCriterionInline, IrbApprovalInline]


@admin.register(TrialSite)
class TrialSiteAdmin(admin.ModelAdmin):
    list_display = [
        "trial",
        "institution",
        "principal_investigator",
        "status",
        "enrolment_target",
        "activated_on",
    ]
    list_filter = ["status", "trial"]
    search_fields = ["institution__name", "trial__protocol_number"]
    list_select_related = ["trial", "institution", "principal_investigator"]
    raw_id_fields = ["principal_investigator"]


@admin.register(PhysicianImport)
class PhysicianImportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "filename",
        "uploaded_by",
        "status",
        "total_rows",
        "valid_rows",
        "created_count",
        "updated_count",
    ]
    list_filter = ["status"]
    search_fields = ["filename"]
    list_select_related = ["uploaded_by"]
    exclude = ["content"]
    readonly_fields = ["errors"]
