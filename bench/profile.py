"""Profile one benchmark page on the loaded bench database: where its time over the floor goes.

    python -m bench.profile follow_ups [--repeat 50] [--sort tottime] [--limit 40]

Runs the page as its user (bench/pages.py) under cProfile after a few warm-ups and prints the
top functions. Needs a database loaded by `make bench` (or `python -m bench.run`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from bench import env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", help="a page key of bench/pages.py")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args(argv)

    env.configure()
    from bench import measure
    from bench.pages import PAGES

    page = next(p for p in PAGES if p.key == args.page)
    url = page.path.format(**measure.anchors())
    client = measure.Clients().get(page.user)
    for _ in range(3):
        measure.fetch(client, url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        measure.fetch(client, url)
    profiler.disable()
    print(f"{page.key}: {url} x{args.repeat}")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
