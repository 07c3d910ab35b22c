from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("cases/<int:pk>/", views.case_documents, name="case_documents"),
    # ?consent=<id> / ?coverage=<id>: the signed form of a consent, the card or letter of a coverage.
    path("cases/<int:pk>/upload/", views.upload, name="upload"),
    path("inquiries/<int:pk>/upload/", views.inquiry_upload, name="inquiry_upload"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("<int:pk>/entered-in-error/", views.entered_in_error, name="entered_in_error"),
]
