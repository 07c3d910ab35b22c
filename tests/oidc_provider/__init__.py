"""A minimal OpenID Connect provider for the single-sign-on tests: django-oauth-toolkit's OIDC
provider in a Django project of its own, served by gunicorn on loopback (tests/accounts/sso.py).

It is configured by the environment the test gives it: IDP_DB (its SQLite file), IDP_RSA_KEY
(the signing key), IDP_CONFIG (JSON: the client and the users with their claims). `GET
/control/?mode=` makes the next ID tokens bad on purpose: `bad_signature`, `wrong_audience`.
"""
