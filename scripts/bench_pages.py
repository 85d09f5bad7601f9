"""Time every page as a reader feels it: `python -m scripts.bench_pages`.

Serves the app fresh, opens the first page (the Overview, or --first) and then
every page twice in headless Chromium, each time from navigation until the
script is done and every chart is drawn. Each visit opens the page's URL (a
full load: new session and connection, the browser's cached scripts parsed
again); with --click a reader's way instead: a click on the page's sidebar
link, in the same session. Prints seconds per page and the problems a reader
would see (scripts/browse.py)."""
from __future__ import annotations

import argparse
import json
import statistics

from scripts import browse


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--first", default="", help="url path of the page opened first ('' = Overview)")
    ap.add_argument("--pages", nargs="*", help="url paths (default: every page)")
    ap.add_argument("--lang", default="en", choices=("en", "zh"))
    ap.add_argument("--click", action="store_true",
                    help="move between pages by their sidebar links instead of loading each URL")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    paths = args.pages if args.pages is not None else browse.page_paths()
    q = "?lang=zh" if args.lang == "zh" else ""
    out = {"width": args.width, "lang": args.lang, "by": "click" if args.click else "url", "first": {}, "pages": {}}
    with browse.serve() as url:
        driver = browse.browser(args.width)
        try:
            first = browse.open_page(driver, f"{url}/{args.first}{q}")
            out["first"] = {"page": args.first or "(overview)", "seconds": round(first, 2),
                            "problems": browse.problems(driver)}
            print(f"first page after start  /{args.first:<24} {first:6.2f} s")
            current = args.first
            for visit in (1, 2):
                for p in paths:
                    # A link to the page already shown reruns nothing: that one is loaded.
                    if args.click and p != current:
                        s = browse.click_page(driver, p)
                    else:
                        s = browse.open_page(driver, f"{url}/{p}{q}")
                    current = p
                    rec = out["pages"].setdefault(p or "(overview)", {"problems": []})
                    rec[f"visit{visit}"] = round(s, 2)
                    if visit == 2:
                        rec["problems"] = browse.problems(driver)
        finally:
            driver.quit()
    print(f"{'page':28} {'1st visit':>9} {'2nd visit':>9}  problems")
    for p, rec in out["pages"].items():
        print(f"/{p:27} {rec['visit1']:9.2f} {rec['visit2']:9.2f}  {'; '.join(rec['problems']) or '-'}")
    second = [rec["visit2"] for rec in out["pages"].values()]
    print(f"second visits: median {statistics.median(second):.2f} s, max {max(second):.2f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
