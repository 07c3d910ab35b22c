"""templates/base.html: what every page's layout guarantees."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


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


def test_every_page_loads_the_picker_library_before_the_app_script():
    """The type-ahead pickers (static/js/app.js) start Tom Select, vendored under static/vendor."""
    html = render('{% extends "base.html" %}')
    assert "vendor/tom-select/tom-select.bootstrap5.min.css" in html
    assert html.index("vendor/tom-select/tom-select.complete.min.js") < html.index("js/app.js")
