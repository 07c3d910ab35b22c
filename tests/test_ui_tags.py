"""liaison_crm/ui_tags.py: the Python field renderer writes what crispy-forms writes, and pk_url
what {% url %} writes."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from accounts.models import User
from liaison_crm.widgets import FastSelectForm


class _Tree(HTMLParser):
    """HTML as a list of (tag, sorted attributes) and stripped text: attribute order and
    whitespace between tags do not matter to a browser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list = []

    def handle_starttag(self, tag, attrs):
        self.items.append(("<", tag, tuple(sorted((k, v or "") for k, v in attrs))))

    def handle_endtag(self, tag):
        self.items.append((">", tag))

    def handle_data(self, data):
        if data.strip():
            self.items.append(("text", " ".join(data.split())))


def tree(html: str) -> list:
    parser = _Tree()
    parser.feed(html)
    return parser.items


class Sample(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": 'Name <or> "NPI"', "class": "extra"}),
        help_text="Some <b>help</b>",
    )
    tier = forms.ChoiceField(choices=[("", "---"), ("1", "One & two")])
    n = forms.IntegerField(min_value=0, required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), required=False
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    check = forms.BooleanField(required=False, label="Check me")
    must = forms.BooleanField(label="Must")
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    radio = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect, required=False)
    boxes = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple, required=False
    )
    person = forms.ModelChoiceField(queryset=User.objects.order_by("pk"), required=False)
    email = forms.EmailField(required=False)
    off = forms.CharField(disabled=True, required=False, initial="fixed")

    def clean(self):
        raise forms.ValidationError("The whole <form> is wrong")


class FastSample(FastSelectForm, Sample):
    pass


BAD = {
    "q": 'a"b',
    "tier": "nope",
    "n": "-1",
    "check": "on",
    "at": "2026-01-02T03:04",
    "text": "hi <there>",
    "many": ["a", "b"],
    "hidden": "5",
    "radio": "z",
    "person": "999999",
}
GOOD_INITIAL = {"q": "init", "day": dt.date(2026, 1, 2), "check": True}


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", [Sample, FastSample])
@pytest.mark.parametrize("bound", [True, False])
def test_as_field_matches_crispy_for_every_widget(form_class, bound, django_user_model):
    django_user_model.objects.create_user("a", first_name="Ann", last_name="<Lee>")

    def make():
        return form_class(BAD) if bound else form_class(initial=GOOD_INITIAL)

    rendered = 0
    for name in make().fields:
        ours = render("{% load ui %}{{ f|as_field }}", f=make()[name])
        theirs = render("{% load crispy_forms_tags %}{{ f|as_crispy_field }}", f=make()[name])
        assert tree(ours) == tree(theirs), name
        rendered += 1
    assert rendered == len(Sample.base_fields)
    if bound:  # the errors are shown, not lost
        assert "is-invalid" in render("{% load ui %}{{ f|as_field }}", f=make()["tier"])


@pytest.mark.django_db
@pytest.mark.parametrize("bound", [True, False])
def test_form_fields_matches_crispy_without_form_tag(bound):
    from crispy_forms.helper import FormHelper

    def make():
        form = Sample(BAD) if bound else Sample(initial=GOOD_INITIAL)
        form.helper = FormHelper()
        form.helper.form_tag = False
        form.helper.disable_csrf = True
        return form

    ours = render("{% load ui %}{% form_fields form %}", form=make())
    theirs = render("{% load crispy_forms_tags %}{% crispy form %}", form=make())
    assert tree(ours) == tree(theirs)
    assert ("The whole &lt;form&gt; is wrong" in ours) is bound


def test_as_field_escapes_values_and_labels():
    class F(forms.Form):
        name = forms.CharField(label="<script>label</script>")

    html = render("{% load ui %}{{ f|as_field }}", f=F({"name": '"><script>x</script>'})["name"])
    assert "<script>" not in html
    assert "&lt;script&gt;label" in html and "&quot;&gt;&lt;script&gt;x" in html


@pytest.mark.parametrize("pk", [1, 42, 10**12])
def test_pk_url_is_reverse(pk):
    for name in ("outreach:follow_up_complete", "patients:case_detail", "physicians:detail"):
        assert render("{% load ui %}{% pk_url name pk %}", name=name, pk=pk) == reverse(name, args=[pk])


def test_pk_urls_builds_the_same_urls_for_many_rows():
    from liaison_crm.ui_tags import pk_urls

    detail = pk_urls("physicians:detail")
    assert [detail(pk) for pk in (1, 42, "7")] == [reverse("physicians:detail", args=[pk]) for pk in (1, 42, 7)]
    with pytest.raises(ValueError):
        detail("7/../admin")


def test_pk_url_follows_the_script_prefix():
    try:
        set_script_prefix("/crm/")
        assert render("{% load ui %}{% pk_url 'physicians:detail' 7 %}") == "/crm/physicians/7/"
    finally:
        set_script_prefix("/")
    assert render("{% load ui %}{% pk_url 'physicians:detail' 7 %}") == "/physicians/7/"


def test_pk_url_refuses_what_is_not_an_id():
    with pytest.raises(ValueError):
        render("{% load ui %}{% pk_url 'physicians:detail' '7/../admin' %}")


@pytest.mark.django_db
def test_fast_select_reads_people_as_rows_with_the_same_labels(django_user_model, django_assert_num_queries):
    from liaison_crm.widgets import FastSelect

    django_user_model.objects.create_user("zed")  # no name: the username
    django_user_model.objects.create_user("b", first_name="<Bo>", last_name="Ng", credentials="RN")
    chosen = django_user_model.objects.create_user("c", first_name="Cy", last_name="")

    class Plain(forms.Form):
        person = forms.ModelChoiceField(queryset=User.objects.all())

    class Fast(Plain):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["person"].widget.__class__ = FastSelect

    plain = str(Plain(initial={"person": chosen.pk})["person"])
    with django_assert_num_queries(1):
        fast = str(Fast(initial={"person": chosen.pk})["person"])
    assert tree(fast) == tree(plain)
    assert "&lt;Bo&gt; Ng, RN" in fast and ">zed<" in fast
    assert f'<option value="{chosen.pk}" selected>Cy</option>' in fast
    assert [User.label_from_values(row) for row in User.objects.values_list(*User.LABEL_FIELDS)] == [
        str(u) for u in User.objects.all()
    ]


@pytest.mark.django_db
def test_fast_select_keeps_a_field_s_own_labels(django_user_model):
    from liaison_crm.widgets import FastSelect

    django_user_model.objects.create_user("amy", first_name="Amy", last_name="Li")

    class ByUsername(forms.ModelChoiceField):
        def label_from_instance(self, obj):
            return f"@{obj.username}"

    class F(forms.Form):
        person = ByUsername(queryset=User.objects.all(), widget=FastSelect)

    assert ">@amy</option>" in str(F()["person"])


def test_path_url_is_reverse_and_follows_the_script_prefix():
    from liaison_crm.ui_tags import path_url

    for name in ("physicians:list", "patients:worklist", "outreach:follow_ups"):
        assert path_url(name) == reverse(name)
    try:
        set_script_prefix("/crm/")
        assert path_url("physicians:list") == "/crm/physicians/"
    finally:
        set_script_prefix("/")


@pytest.mark.django_db
def test_fast_select_reads_other_models_in_one_plain_query(django_assert_num_queries):
    """A model without LABEL_FIELDS is read as instances, with one SELECT: no server-side cursor
    (Django's own iterator() is DECLARE, FETCH and CLOSE on PostgreSQL for a short list)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from liaison_crm.widgets import FastSelect
    from physicians.models import TherapeuticArea

    TherapeuticArea.objects.create(name="Oncology")
    TherapeuticArea.objects.create(name="<Cardiology>")

    class F(forms.Form):
        area = forms.ModelChoiceField(queryset=TherapeuticArea.objects.order_by("name"), widget=FastSelect)

    with CaptureQueriesContext(connection) as ctx:
        html = str(F()["area"])
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["SELECT"]
    assert html.index("&lt;Cardiology&gt;") < html.index("Oncology")
    assert '<option value="" selected>---------</option>' in html


def test_pages_print_numbers_as_written(settings):
    """Ids go into attributes and URLs: base.html turns number localisation off, so a thousand
    separator can never reach them (and rendering a number skips the locale machinery)."""
    settings.USE_THOUSAND_SEPARATOR = True
    source = (
        '{% extends "base.html" %}{% block content %}<i data-id="{{ n }}">{{ when|date:"Y-m-d" }}</i>{% endblock %}'
    )
    html = render(source, n=1234567, when=dt.date(2026, 11, 26))
    assert '<i data-id="1234567">2026-11-26</i>' in html
    assert render("{{ n }}", n=1234567) == "1,234,567"  # what a page without it would print


@pytest.mark.parametrize("token", ["abc<&>", "NOTPROVIDED", "", None])
def test_csrf_input_is_what_the_csrf_token_tag_writes(token):
    from liaison_crm.ui_tags import csrf_input

    context = {} if token is None else {"csrf_token": token}
    assert csrf_input(token) == Template("{% csrf_token %}").render(Context(context))
