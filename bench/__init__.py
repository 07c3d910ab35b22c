"""Performance benchmark of Liaison CRM (issue 7): a bulk loader, a harness and a report writer.

`python -m bench.load --scale 1.0` fills a separate PostgreSQL database; `python -m bench.run`
loads it (unless --skip-load) and measures every page of bench/pages.py against the budgets.
"""
