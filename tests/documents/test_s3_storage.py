"""The S3 path, against a real S3-compatible HTTP server on this machine: moto's server mode
(`moto[server]`, a test requirement), started here on a free loopback port.

Documents go through django-storages' S3Storage configured as settings.py configures it from a
STORAGE_URL; they are uploaded and downloaded through the application's own views, and the bucket
holds them under random keys, privately."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import boto3
import pytest
from django.urls import reverse

from documents.models import Document
from liaison_crm.settings import s3_storage, s3_storage_options

from . import samples

pytestmark = pytest.mark.django_db

BUCKET = "liaison-documents"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto's S3 server did not start on port {port} (exit code {server.poll()})")
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3(settings, s3_endpoint):
    """The default storage on the S3 server, as STORAGE_URL=s3+http://KEY:SECRET@HOST:PORT/BUCKET sets it."""
    host, port = s3_endpoint
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    storage_url = f"s3+http://test:test@{host}:{port}/{BUCKET}?region=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(s3_storage_options(storage_url))}
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for obj in listed:
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_storage_url_names_an_s3_compatible_server():
    options = s3_storage_options("s3+http://AK:s%2Fecret@127.0.0.1:9000/docs?region=eu-west-1&location=crm/")
    assert options == {
        "access_key": "AK",
        "secret_key": "s/ecret",
        "region_name": "eu-west-1",
        "location": "crm/",
        "endpoint_url": "http://127.0.0.1:9000",
        "bucket_name": "docs",
    }
    assert s3_storage_options("s3://AK:SK@my-bucket")["bucket_name"] == "my-bucket"
    assert "endpoint_url" not in s3_storage_options("s3://AK:SK@my-bucket")


def test_upload_and_download_through_s3(s3, case, nurse, client_for):
    data = samples.pdf(pages=2)
    client = client_for(nurse)
    response = client.post(
        reverse("documents:upload", args=[case.pk]),
        {
            "doc-kind": "medical_record",
            "doc-files": [samples.upload("Lovelace echo.pdf", data), samples.upload("card.png", samples.png())],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:500]
    pdf = Document.objects.get(content_type="application/pdf")
    image = Document.objects.get(content_type="image/png")
    keys = {obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    # The file, the image and its thumbnail, each under a random key: never the name given.
    assert keys == {pdf.file.name, image.file.name, image.thumbnail.name}
    assert not any("Lovelace" in key or key.endswith(".pdf") for key in keys)
    # Private: no public-read grant on the object.
    grants = s3.get_object_acl(Bucket=BUCKET, Key=pdf.file.name)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("AllUsers")]

    download = client.get(reverse("documents:download", args=[pdf.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == data
    assert download["Content-Disposition"] == 'attachment; filename="Lovelace echo.pdf"'
    thumb = client.get(reverse("documents:thumbnail", args=[image.pk]))
    assert b"".join(thumb.streaming_content).startswith(b"\x89PNG")
