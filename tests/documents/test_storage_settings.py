"""Where documents are stored comes from the environment: local files under MEDIA_ROOT by default,
S3 (django-storages) when a bucket or a STORAGE_URL is set; a malformed STORAGE_URL stops start-up."""

from __future__ import annotations

import json

import pytest

from tests.accounts.test_settings import run_manage

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'storage': settings.STORAGES['default'], 'media': str(settings.MEDIA_ROOT), "
    "'max': settings.DOCUMENT_MAX_MB}))"
)
NO_STORAGE = {"STORAGE_URL": "", "AWS_STORAGE_BUCKET_NAME": ""}


def _settings(**env) -> dict:
    result = run_manage("shell", "-c", SHOW, env={**NO_STORAGE, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_files_under_media_root_by_default(tmp_path):
    shown = _settings(MEDIA_ROOT=str(tmp_path), DOCUMENT_MAX_MB="5")
    assert shown["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert (shown["media"], shown["max"]) == (str(tmp_path), 5)


def test_a_bucket_and_its_companions_select_private_s3():
    shown = _settings(
        AWS_STORAGE_BUCKET_NAME="crm-documents",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        AWS_ACCESS_KEY_ID="AK",
        AWS_SECRET_ACCESS_KEY="SK",
        AWS_S3_REGION_NAME="eu-west-1",
    )
    assert shown["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = shown["storage"]["OPTIONS"]
    assert options["bucket_name"] == "crm-documents"
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert (options["access_key"], options["secret_key"], options["region_name"]) == ("AK", "SK", "eu-west-1")
    assert (options["default_acl"], options["querystring_auth"], options["file_overwrite"]) == (None, True, False)


def test_a_storage_url_selects_s3():
    shown = _settings(STORAGE_URL="s3+https://AK:SK@objects.example.org/crm-documents")
    options = shown["storage"]["OPTIONS"]
    assert (options["endpoint_url"], options["bucket_name"]) == ("https://objects.example.org", "crm-documents")


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://host/bucket", "use s3://, s3+http:// or s3+https://"), ("s3+http://127.0.0.1:9000/", "names no bucket")],
)
def test_a_malformed_storage_url_fails_loudly(url, message):
    result = run_manage("check", env={**NO_STORAGE, "STORAGE_URL": url})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
