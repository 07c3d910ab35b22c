"""Demo teams and users of the contract (../shared/DESIGN.md): password `demo` for all."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from .models import Team, User

TEAMS = [
    ("Medical Affairs East", Team.Kind.MEDICAL_AFFAIRS),
    ("Medical Affairs West", Team.Kind.MEDICAL_AFFAIRS),
    ("Clinical Liaison North", Team.Kind.CLINICAL_LIAISON),
    ("Clinical Liaison South", Team.Kind.CLINICAL_LIAISON),
]

# username, first, last, role, team index, job title, credentials
USERS = [
    ("msl", "Maya", "Patel", User.Role.MSL, 0, "Senior Medical Science Liaison", "PharmD"),
    ("msl_east2", "Daniel", "Okafor", User.Role.MSL, 0, "Medical Science Liaison", "PhD"),
    ("msl2", "Sofia", "Lindqvist", User.Role.MSL, 1, "Medical Science Liaison", "MD"),
    ("msl_west2", "Ethan", "Brooks", User.Role.MSL, 1, "Medical Science Liaison", "PharmD"),
    ("nurse", "Grace", "Nguyen", User.Role.CLINICAL_LIAISON, 2, "Clinical Liaison", "RN"),
    ("nurse_north2", "Luis", "Romero", User.Role.CLINICAL_LIAISON, 2, "Clinical Liaison", "LPN"),
    ("nurse2", "Hannah", "Weber", User.Role.CLINICAL_LIAISON, 3, "Clinical Liaison", "RN"),
    ("nurse_south2", "Amara", "Mensah", User.Role.CLINICAL_LIAISON, 3, "Clinical Liaison", "RN, BSN"),
    ("manager", "Robert", "Chen", User.Role.MANAGER, None, "Director, Field Medical & Clinical Liaison", "MBA"),
    ("admin", "Alex", "Admin", User.Role.ADMIN, None, "System administrator", ""),
]

DEMO_PASSWORD = "demo"


def seed(*, scale: int, stdout) -> None:
    teams = {}
    for name, kind in TEAMS:
        teams[name], _ = Team.objects.get_or_create(name=name, defaults={"kind": kind})
    team_list = [teams[name] for name, _ in TEAMS]
    password = make_password(DEMO_PASSWORD)
    for username, first, last, role, team_idx, title, creds in USERS:
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.liaison-crm.local",
                "role": role,
                "team": team_list[team_idx] if team_idx is not None else None,
                "job_title": title,
                "credentials": creds,
                "password": password,
                "is_staff": role == User.Role.ADMIN,
                "is_superuser": role == User.Role.ADMIN,
            },
        )
        if role == User.Role.MANAGER:
            user.managed_teams.add(*team_list)
    stdout.write(f"  {Team.objects.count()} teams, {User.objects.count()} users")
