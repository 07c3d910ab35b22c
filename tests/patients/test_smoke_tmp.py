from patients.choices import Stage
from patients import services
from .conftest import complete_evaluation, make_admittable


def test_flow(case, nurse, consent_form, client_for):
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    services.accept(case=case, by=nurse)
    make_admittable(case, nurse, consent_form)
    services.admit(case=case, by=nurse)
    services.discharge(case=case, by=nurse, disposition="home", summary="ok")
    assert case.stage == Stage.DISCHARGED
    c = client_for(nurse)
    for url in ["/patients/", f"/patients/cases/{case.pk}/", f"/patients/cases/{case.pk}/print/", f"/patients/{case.patient_id}/", "/patients/referrals/new/"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
