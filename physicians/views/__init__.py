"""Pages of the medical-affairs side, one module per entity; physicians/urls.py routes them.

Thin: scope with `visible_to`, call a service or selector, render. What the create and edit pages
share is in `common.py`.
"""
