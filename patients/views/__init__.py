"""Patient and case pages. Thin: scope through `visible_to`, call a service or selector, render.

MSLs never reach any of these (403, `phi_required`); a record outside the user's teams is a 404.
Every response that shows patient data writes one ACCESS entry to the audit log (../audit.py).

One module an entity: the worklist and new referrals, the case page and its transitions, the
case's sections edited in place, the patient record, the audit log.
"""

from .audit import audit
from .cases import case_assign, case_detail, case_edit, case_print, case_transition, stage_bar
from .patient import patient_detail, patient_edit
from .sections import case_form, checklist_item, consent_reconsent, eligibility, section_add, section_edit
from .worklist import referral_new, worklist, worklist_export

__all__ = [
    "audit",
    "case_assign",
    "case_detail",
    "case_edit",
    "case_form",
    "case_print",
    "case_transition",
    "checklist_item",
    "consent_reconsent",
    "eligibility",
    "patient_detail",
    "patient_edit",
    "referral_new",
    "section_add",
    "section_edit",
    "stage_bar",
    "worklist",
    "worklist_export",
]
