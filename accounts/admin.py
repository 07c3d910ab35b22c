from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Team, User


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["managers"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active", "is_staff"]
    list_select_related = ["team"]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Liaison CRM", {"fields": ("role", "team", "job_title", "credentials", "phone")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("Liaison CRM", {"fields": ("first_name", "last_name", "email", "role", "team", "credentials")}),
    )
