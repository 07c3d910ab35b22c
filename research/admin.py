"""Admin for trial participation: read-only (every step goes through research.services, with its
checks and its history), never deleted, and each page that shows one logs a PHI access."""

from django.contrib import admin

from patients.admin import NoDeleteAdmin, _all_fields

from .models import Participation, ParticipationTransition, ScreeningAnswer


class ReadOnlyParticipationAdmin(NoDeleteAdmin):
    def get_readonly_fields(self, request, obj=None):
        return _all_fields(self.model)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Participation)
class ParticipationAdmin(ReadOnlyParticipationAdmin):
    list_display = ["case", "trial", "site", "status", "screened_at", "enrolled_on"]
    list_filter = ["status", "trial"]
    list_select_related = ["case", "trial", "site__institution", "site__trial"]
    raw_id_fields = ["case"]


class _ThroughParticipationAdmin(ReadOnlyParticipationAdmin):
    list_select_related = ["participation__case", "participation__trial"]

    def audit_shown(self, objs: list):
        return [(o.participation.case.patient_id, o.participation.case_id, o.participation.case.team_id) for o in objs]


@admin.register(ScreeningAnswer)
class ScreeningAnswerAdmin(_ThroughParticipationAdmin):
    list_display = ["participation", "criterion", "answer", "answered_by", "answered_at"]


@admin.register(ParticipationTransition)
class ParticipationTransitionAdmin(_ThroughParticipationAdmin):
    list_display = ["participation", "from_status", "to_status", "by", "at"]
