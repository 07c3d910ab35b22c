"""The REST API's shared parts (Django REST framework): authentication lives in accounts, the
resources in each app's `api.py`; here are the pagination, permissions, throttles, error answers
and the base viewset every resource starts from, and the router (urls.py)."""
