"""Migrate the provider's database and create its client and users from IDP_CONFIG:

{"client": {"client_id": ..., "client_secret": ..., "redirect_uris": [...]},
 "users": {"ana": {"password": ..., "claims": {"email": ..., "email_verified": true, ...}}}}
"""

import json
import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    config = json.loads(os.environ["IDP_CONFIG"])
    client = config["client"]
    Application.objects.create(
        name="Liaison CRM",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        post_logout_redirect_uris=" ".join(client.get("post_logout_redirect_uris", [])),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        hash_client_secret=True,
    )
    for username, user in config["users"].items():
        User.objects.create_user(username=username, password=user["password"])


if __name__ == "__main__":
    main()
