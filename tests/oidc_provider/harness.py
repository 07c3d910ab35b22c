"""Start the test identity provider (gunicorn on loopback) and sign in through it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "liaison-crm", "liaison-crm-secret-0123456789"


@dataclass
class Provider:
    url: str
    process: subprocess.Popen

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def set_mode(self, mode: str) -> None:
        requests.get(f"{self.url}/control/", params={"mode": mode}, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder: Path, *, redirect_uris: list[str], users: dict, after_logout: list[str] = ()) -> Provider:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
              "post_logout_redirect_uris": list(after_logout)}  # fmt: skip
    config = {"client": client, "users": users}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "IDP_DB": str(folder / "idp.sqlite3"),
        "IDP_RSA_KEY": pem,
        "IDP_CONFIG": json.dumps(config),
    }
    subprocess.run([sys.executable, "-m", "tests.oidc_provider.setup"], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    log = (folder / "idp.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tests.oidc_provider.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/o/.well-known/openid-configuration", timeout=1).ok:
                return Provider(url, process)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"The test identity provider did not start: {(folder / 'idp.log').read_text()}")


def provider_session(provider: Provider, username: str, password: str) -> requests.Session:
    """A browser's session at the provider, signed in there."""
    idp = requests.Session()
    idp.get(f"{provider.url}/login/", timeout=5)
    response = idp.post(
        f"{provider.url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": idp.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, "the test provider refused its own user"
    return idp


def authorize(idp: requests.Session, authorize_url: str) -> str:
    """Follow the provider's authorization endpoint; returns the redirect back to the app (path?query)."""
    response = idp.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:500]
    parts = urlsplit(response.headers["Location"])
    return f"{parts.path}?{parts.query}"
