"""Template tags for the hot pages: form fields and per-row URLs built in Python.

`{% load ui %}` (registered in settings.TEMPLATES as the `ui` library).

- `{{ form.field|as_field }}` writes the same Bootstrap 5 markup as crispy-forms'
  `as_crispy_field` (ids, classes, error and help blocks), and `{% form_fields form %}` the same
  as `{% crispy form %}` with `form_tag = False`. Crispy renders a field through a dozen nested
  templates and Django a widget through two more: about 1.5 ms a field, most of a list page's
  filter bar and of the case page's forms (bench/results.md). Widgets whose markup is plain
  (inputs, textareas, selects) are written here; any other widget is rendered by the widget
  itself, and radio/checkbox groups by crispy.
- `{% pk_url "app:name" pk %}` is `{% url "app:name" pk %}` for a URL whose only argument is an
  integer id: the URL is reversed once per name and the id substituted, instead of a full
  reverse() per row (a follow-up row has five URLs). `{% path_url "app:name" %}` does the same
  for a URL without arguments (the navigation bars have a dozen).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms, template
from django.forms.utils import flatatt
from django.template.loader import get_template
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Widgets whose template is Django's plain <input>: written here from the widget's own context.
PLAIN_INPUTS = (
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.TelInput,
    forms.SearchInput,
    forms.PasswordInput,
    forms.HiddenInput,
    forms.DateInput,
    forms.DateTimeInput,
    forms.TimeInput,
    forms.CheckboxInput,
)


def _has_default_template(widget: forms.Widget, bases: tuple[type, ...]) -> bool:
    """The widget is one of `bases` and renders with that base's own template."""
    return any(isinstance(widget, base) and widget.template_name == base.template_name for base in bases)


def render_widget(bound: forms.BoundField, attrs: dict) -> SafeString:
    """BoundField.as_widget(attrs), written in Python for the plain widgets."""
    widget = bound.field.widget
    if bound.field.localize:
        widget.is_localized = True
    attrs = bound.build_widget_attrs(attrs, widget)
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    name, value = bound.html_name, bound.value()
    if _has_default_template(widget, PLAIN_INPUTS):
        context = widget.get_context(name, value, attrs)["widget"]
        shown = "" if context["value"] is None else format_html(' value="{}"', context["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>', context["type"], context["name"], shown, flatatt(context["attrs"])
        )
    if _has_default_template(widget, (forms.Textarea,)):
        context = widget.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>', context["name"], flatatt(context["attrs"]), context["value"] or ""
        )
    return widget.render(name=name, value=value, attrs=attrs, renderer=bound.form.renderer)


def _classes(bound: forms.BoundField, base: str) -> str:
    """crispy's class attribute: the widget's own classes, its class name, the Bootstrap class."""
    widget = bound.field.widget
    own = widget.attrs.get("class", "")
    name = type(widget).__name__.lower()
    parts = [own] if own else []
    if name not in own:
        parts.append(name)
    parts.append(base)
    if bound.errors:
        parts.append("is-invalid")
    return " ".join(parts)


def _errors_and_help(bound: forms.BoundField, inline: bool) -> SafeString:
    html = ""
    if bound.errors:
        # crispy writes each error as a <p>, or a <span> when the form has a FormHelper.
        html += format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            bound.errors.field_id or bound.auto_id,
            format_html_join(
                "",
                '<span id="error_{}_{}"><strong>{}</strong></span>'
                if inline
                else '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((i, bound.auto_id, error) for i, error in enumerate(bound.errors, 1)),
            ),
        )
    if bound.help_text:
        help_id = format_html(' id="{}_helptext"', bound.auto_id) if bound.auto_id else ""
        html += format_html('<div{} class="form-text">{}</div>', help_id, mark_safe(bound.help_text))
    return mark_safe(html)


def _label(bound: forms.BoundField, css: str) -> SafeString:
    required = bound.field.required
    return format_html(
        "<label{} class={}>{}{}</label>",
        format_html(' for="{}"', bound.id_for_label) if bound.id_for_label else "",
        format_html('"{}"', css + (" requiredField" if required else "")),
        bound.label,
        mark_safe('<span class="asteriskField">*</span>') if required else "",
    )


@register.filter
def as_field(bound: forms.BoundField, inline_errors: bool = False) -> SafeString:
    """A form field in crispy-forms' Bootstrap 5 markup, rendered in Python."""
    if bound.is_hidden:
        return render_widget(bound, {})
    widget = bound.field.widget
    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.FileInput)):
        return _crispy_field(bound, inline_errors)
    extra = bound.css_classes()
    extra = f" {extra}" if extra else ""
    if isinstance(widget, forms.CheckboxInput):
        control = render_widget(bound, {"class": _classes(bound, "form-check-input")})
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check{}">{}{}{}</div></div>',
            bound.auto_id,
            extra,
            control,
            _label(bound, "form-check-label"),
            _errors_and_help(bound, inline_errors),
        )
    base = "form-select" if isinstance(widget, forms.Select) else "form-control"
    control = render_widget(bound, {"class": _classes(bound, base)})
    return format_html(
        '<div id="div_{}" class="mb-3{}">{}{}{}</div>',
        bound.auto_id,
        extra,
        _label(bound, "form-label") if bound.label else "",
        control,
        _errors_and_help(bound, inline_errors),
    )


def _crispy_field(bound: forms.BoundField, inline_errors: bool) -> SafeString:
    """Radio and checkbox groups and file inputs: crispy's own field template."""
    return get_template("bootstrap5/field.html").render(
        {"field": bound, "form_show_errors": True, "form_show_labels": True, "error_text_inline": inline_errors}
    )


@register.simple_tag
def form_fields(form: forms.BaseForm) -> SafeString:
    """`{% crispy form %}` for a form without a <form> tag: its non-field errors, then every field."""
    parts = []
    non_field = form.non_field_errors()
    if non_field:
        parts.append(
            format_html(
                '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
                format_html_join("", "<li>{}</li>", ((e,) for e in non_field)),
            )
        )
    parts.extend(as_field(bound, inline_errors=True) for bound in form)
    return mark_safe("".join(parts))


def csrf_input(token) -> str:
    """What {% csrf_token %} writes for this token, for rows written in Python."""
    token = str(token or "")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


# --- URLs ------------------------------------------------------------------------------------
_SENTINEL = 987_654_321_012_345
_url_templates: dict[tuple, tuple[str, str]] = {}


def _url_key(name: str) -> tuple:
    """What a reversed URL depends on besides its name: the URLconf and the script prefix."""
    return (get_resolver(get_urlconf()), get_script_prefix(), name)


def _pk_parts(name: str) -> tuple[str, str]:
    key = _url_key(name)
    parts = _url_templates.get(key)
    if parts is None:
        url = reverse(name, args=[_SENTINEL])
        head, _, tail = url.partition(str(_SENTINEL))
        parts = _url_templates.setdefault(key, (head, tail))
    return parts


@register.simple_tag
def pk_url(name: str, pk: int) -> str:
    """reverse(name, args=[pk]) for an integer pk, reversing each name once per URLconf."""
    head, tail = _pk_parts(name)
    return f"{head}{int(pk)}{tail}"


def pk_urls(name: str) -> Callable[[int], str]:
    """pk_url(name, ·) for many rows: the URLconf and script prefix (thread-locals) are read once,
    not once a row (a CSV of a thousand linked rows spent a fifth of its time there)."""
    head, tail = _pk_parts(name)
    return lambda pk: f"{head}{int(pk)}{tail}"


_paths: dict[tuple, str] = {}


@register.simple_tag
def path_url(name: str) -> str:
    """reverse(name) for a URL without arguments, reversed once per URLconf (the dashboards link
    every figure to a list: a few hundred reverse() calls a page)."""
    key = _url_key(name)
    path = _paths.get(key)
    if path is None:
        path = _paths.setdefault(key, reverse(name))
    return path
