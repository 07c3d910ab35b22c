"""The claims of the test provider's users (IDP_CONFIG), and ID tokens spoiled on request."""

import base64
import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator

MODE = {"mode": ""}


def users() -> dict:
    return json.loads(os.environ.get("IDP_CONFIG", "{}")).get("users", {})


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim in every token: the test sets what each user asserts

    def get_additional_claims(self, request):
        return users().get(request.user.username, {}).get("claims", {})

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        if MODE["mode"] == "wrong_audience":
            claims["aud"] = "another-application"
        return claims, expiration

    def finalize_id_token(self, id_token, token, token_handler, request):
        serialized = super().finalize_id_token(id_token, token, token_handler, request)
        if MODE["mode"] == "bad_signature":
            header, payload, _ = serialized.split(".")
            forged = base64.urlsafe_b64encode(b"\x00" * 256).rstrip(b"=").decode()
            serialized = f"{header}.{payload}.{forged}"
        return serialized
