"""Documents in the admin: read-only. Filing and "entered in error" go through the application
(documents.services), so every change is checked and audited; nothing is ever deleted."""

from django.contrib import admin

from .models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "kind", "content_type", "size", "case", "inquiry", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["title", "sha256", "case__patient__mrn"]
    list_select_related = ["case", "inquiry", "uploaded_by"]
    raw_id_fields = ["case", "consent", "coverage", "inquiry", "uploaded_by", "entered_in_error_by"]
    # The stored keys are not shown: a link to them (a signed S3 URL) would bypass the audited views.
    fields = readonly_fields = [f.name for f in Document._meta.fields if f.name not in ("id", "file", "thumbnail")]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
