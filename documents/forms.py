from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings

from .choices import DocumentKind
from .files import ALLOWED
from .services import MAX_FILES, MAX_REASON

# A hint for the browser's file picker only: the server finds the type from the bytes.
ACCEPT = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.docx,.txt,application/pdf,image/png,image/jpeg,image/tiff,text/plain"


class _Crispy:
    """Rendered by {% crispy form %} inside the template's own <form> (which writes the CSRF token)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, as Django's documentation shows. Names, sizes and types are
    checked by the service (documents.files), which names each refused file and why."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        # Empty files reach the service, which refuses them with the file's name.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not uploads and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]


class UploadForm(_Crispy, forms.Form):
    kind = forms.ChoiceField(label="Kind of document")
    title = forms.CharField(
        max_length=200, required=False, help_text="Optional: each file's own name is its title otherwise."
    )
    files = MultipleFileField(label="Files", error_messages={"required": "Choose at least one file to upload."})
    # Filed on one of the case's consents or coverages (documents:upload?consent=<id>).
    consent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    coverage = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds: list[str], **kwargs):
        kwargs.setdefault("prefix", "doc")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, DocumentKind(k).label) for k in kinds]
        self.fields["files"].help_text = f"{ALLOWED}; up to {settings.DOCUMENT_MAX_MB} MB each, {MAX_FILES} at once."
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-sm-5"), Column("title", css_class="col-sm-7")),
            "files",
            "consent",
            "coverage",
        )
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]


class EnteredInErrorForm(_Crispy, forms.Form):
    reason = forms.CharField(
        label="Why was it entered in error?",
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The document is kept, hidden from the default view; managers still see it.",
    )
