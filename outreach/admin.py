from django.contrib import admin

from .models import CalendarFeed, DigestLog, EmailOutbox, FollowUp, Notification, OutreachEvent, ServiceLevelRule
from .rules import ensure_rule_rows, registry


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "team", "status", "due_at", "rule", "reminded_at", "escalated_at"]
    list_filter = ["status", "team", "rule"]
    search_fields = ["title", "owner__username", "owner__last_name", "rule_key"]
    list_select_related = ["owner", "team"]
    raw_id_fields = ["owner", "completed_by", "created_by", "physician", "interaction", "inquiry", "case"]
    date_hierarchy = "due_at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "follow_up"]
    show_full_result_count = False


@admin.register(ServiceLevelRule)
class ServiceLevelRuleAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "enabled", "parameters", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["key", "label"]
    list_select_related = []
    list_editable = ["enabled"]
    readonly_fields = ["defaults"]

    @admin.display(description="Defaults")
    def defaults(self, obj: ServiceLevelRule) -> str:
        """The registered defaults, which a parameter left out falls back to."""
        rule = registry().get(obj.key)
        return ", ".join(f"{name}: {value}" for name, value in rule.defaults.items()) if rule else ""

    def changelist_view(self, request, extra_context=None):
        # Every registered rule appears here with its defaults, ready to edit.
        ensure_rule_rows()
        return super().changelist_view(request, extra_context)


@admin.register(EmailOutbox)
class EmailOutboxAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "created_at", "claimed_at", "sent_at", "attempts"]
    list_filter = ["sent_at"]
    search_fields = ["subject", "to"]
    list_select_related = []
    show_full_result_count = False


@admin.register(DigestLog)
class DigestLogAdmin(admin.ModelAdmin):
    list_display = ["user", "date", "overdue", "due_today", "created_at"]
    list_filter = ["date"]
    search_fields = ["user__username"]
    list_select_related = ["user"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_fetched_at"]
    search_fields = ["user__username"]
    list_filter = ["created_at"]
    list_select_related = ["user"]
    exclude = ["token"]


@admin.register(OutreachEvent)
class OutreachEventAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "date", "team", "organiser", "contacts_made"]
    list_filter = ["kind", "team"]
    search_fields = ["title", "place"]
    list_select_related = ["team", "organiser"]
    raw_id_fields = ["organiser", "referrals"]
    date_hierarchy = "date"
