"""The label commands that only write audit and relabel files (`blind`,
`relabel --merge`), apart from the reader's own command line (__main__.py),
which passes its `fail` (print the reason, exit 2)."""
from __future__ import annotations


def cmd_blind(args, fail) -> int:
    """Draw the unread failures of some runs for a blind reading (--sheet), or
    record the readings made from such a sheet (--record)."""
    import json as _json
    from pathlib import Path

    from experiments.captcha import audit, blind
    from experiments.captcha.data import CaptchaDataNotFound, captcha_root
    if args.record:
        meta = _json.loads(Path(args.record).read_text(encoding="utf-8"))
        readings = [r.strip() for r in (args.readings or "").split(",") if r.strip()]
        try:
            rows = blind.record(meta["refs"], readings, [Path(r) for r in meta["runs"]], args.note,
                                Path(args.audit_file) if args.audit_file else audit.XSRC_AUDIT)
        except (ValueError, KeyError) as e:
            fail(str(e))
        for row in rows:
            print("\t".join(row))
        return 0
    if not args.runs or not args.sheet:
        fail("give --runs RUN... --sheet OUT.png to draw a sheet, or --record SHEET.json --readings ...")
    runs = [Path(r) for r in args.runs]
    refs = blind.unread_failures(runs, audit.reviewed())
    try:
        root = captcha_root(args.data_dir)
    except CaptchaDataNotFound as e:
        fail(str(e))
    meta = blind.save_sheet(refs, runs, root, Path(args.sheet))
    print(_json.dumps({"unread": len(refs), "sheet": args.sheet, "refs": str(meta)}))
    return 0


def merge_lists(args, fail) -> int:
    """One list from two made on disjoint images (each source relabelled by
    models trained on the other), less every image of the held-out test split,
    which is never relabelled."""
    import csv as _csv
    import json as _json

    from experiments.captcha import relabel
    from experiments.captcha.data import CaptchaDataNotFound, list_items, split
    out = relabel.path_of(args.name)
    if out.exists() and not args.force:
        fail(f"{out} exists; a list is immutable once a config names it (--force to overwrite)")
    rows = []
    for name in args.merge:
        path = relabel.path_of(name)
        if not path.is_file():
            fail(f"no relabel list {path}")
        with open(path, newline="", encoding="utf-8") as f:
            rows += list(_csv.DictReader(f))
    from collections import Counter
    twice = sorted(ref for ref, n in Counter(r["image"] for r in rows).items() if n > 1)
    if twice:
        fail(f"{len(twice)} image(s) in more than one list, first {twice[0]}: merge lists of disjoint images")
    try:
        _, _, test = split(list_items(args.data_dir))
    except CaptchaDataNotFound as e:
        fail(str(e))
    held = {it.ref for it in test}
    kept = [r for r in rows if r["image"] not in held]
    relabel.write(kept, out)
    print(_json.dumps({"saved": str(out), "rows": len(kept), "test_images_left_out": len(rows) - len(kept)}))
    return 0
