"""PHI access entries: who saw which patients, when, and on what page.

Every response that shows patient data writes exactly one django-auditlog ACCESS entry, however
many patients it shows: a worklist page of 25 cases is one entry naming the 25 cases and their
patients, written in one INSERT. `kind` (choices.AccessKind) says which page, fragment, export or
admin page it was; `path` and `query` the URL as it was asked (the worklist's filter and search).

A refused request (an MSL's 403, an outsider's 404) shows nothing and writes nothing: the views
check access before they read, and only a response that renders patient data records an access.
A page that shows no patient (an empty worklist) records nothing either.

What the managers' audit page filters by lives in `additional_data`:
- `patients` {patient id: [ids of the cases shown]} and `teams` {team id: rows shown}: JSON object
  keys (strings), so `has_key` / `has_any_keys` find an entry by any one of its patients or
  teams, on SQLite as on PostgreSQL (GIN-indexed there, migration audit_access_indexes);
- `patient_id`, `case_id` and `team_id` when the entry is about one of each: the keys this app's
  change entries carry (models.get_additional_data), so that one filter finds both.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpRequest

from .choices import AccessKind
from .models import Case

# (patient id, case id or None, team id or None): one row of what a response showed.
Shown = tuple[int, int | None, int | None]

QUERY_LIMIT = 500  # characters of the query string kept (a filter, a search; not an essay)


def cases_shown(cases: Iterable[Case]) -> list[Shown]:
    return [(case.patient_id, case.pk, case.team_id) for case in cases]


def case_records_shown(records: Iterable[Model]) -> list[Shown]:
    """Rows of a case's records (medications, consents, ...): their case is select_related."""
    return [(r.case.patient_id, r.case_id, r.case.team_id) for r in records]


def patients_shown(patients: Iterable[Model]) -> list[Shown]:
    """Patients shown without their cases (the admin): each under the teams of their cases, read
    in one query."""
    ids = [p.pk for p in patients]
    teams: dict[int, set[int]] = {pk: set() for pk in ids}
    if ids:
        for patient_id, team_id in Case.objects.filter(patient_id__in=ids).values_list("patient_id", "team_id"):
            teams[patient_id].add(team_id)
    return [(pk, None, team) for pk in ids for team in (sorted(teams[pk]) or [None])]


def access_data(request: HttpRequest, kind: str, shown: list[Shown]) -> dict:
    patients: dict[str, list[int]] = {}
    teams: dict[str, int] = {}
    case_ids: set[int] = set()
    for patient_id, case_id, team_id in shown:
        cases = patients.setdefault(str(patient_id), [])
        if case_id is not None and case_id not in cases:
            cases.append(case_id)
            case_ids.add(case_id)
        if team_id is not None:
            teams[str(team_id)] = teams.get(str(team_id), 0) + 1
    data = {
        "kind": AccessKind(kind).value,
        "path": request.path,
        "query": request.GET.urlencode()[:QUERY_LIMIT],
        "patients": patients,
        "teams": teams,
    }
    # The single keys, indexed (migration 0003) and shared with the change entries.
    if len(patients) == 1:
        data["patient_id"] = int(next(iter(patients)))
    if len(case_ids) == 1:
        data["case_id"] = next(iter(case_ids))
    if len(teams) == 1:
        data["team_id"] = int(next(iter(teams)))
    return data


def record_access(
    request: HttpRequest,
    kind: str,
    shown: Iterable[Shown],
    *,
    instance: Model | None = None,
    model: type[Model] | None = None,
    label: str = "",
    extra: dict | None = None,
) -> LogEntry | None:
    """The one ACCESS entry of this request: about `instance` (a page of one record), or about
    several rows of `model` (a list: object_pk is the kind, object_repr `label`). None when
    nothing was shown."""
    shown = list(shown)
    if not shown:
        return None
    data = {**access_data(request, kind, shown), **(extra or {})}
    actor = request.user if request.user.is_authenticated else None
    if instance is not None:
        return LogEntry.objects.log_create(
            instance, force_log=True, action=LogEntry.Action.ACCESS, changes=None, actor=actor, additional_data=data
        )
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=kind,
        object_repr=label or AccessKind(kind).label,
        action=LogEntry.Action.ACCESS,
        actor=actor,
        additional_data=data,
        cid=get_cid(),
    )
