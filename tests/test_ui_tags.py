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
@pytest.mark.parametrize("form_class", [Sample])
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


def test_path_url_is_reverse_and_follows_the_script_prefix():
    from liaison_crm.ui_tags import path_url

    for name in ("physicians:list", "patients:worklist", "outreach:follow_ups"):
        assert path_url(name) == reverse(name)
    try:
        set_script_prefix("/crm/")
        assert path_url("physicians:list") == "/crm/physicians/"
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize("token", ["abc<&>", "NOTPROVIDED", "", None])
def test_csrf_input_is_what_the_csrf_token_tag_writes(token):
    from liaison_crm.ui_tags import csrf_input

    context = {} if token is None else {"csrf_token": token}
    assert csrf_input(token) == Template("{% csrf_token %}").render(Context(context))
