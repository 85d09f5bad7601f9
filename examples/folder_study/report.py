"""The shapes study's Overview card: the wide network against the narrow one."""
from core.text import text
from core.verdict import compare


def cards(lang: str, rows: list[dict]) -> list[dict]:
    by = {r["experiment"]: r for r in rows}
    narrow, wide = by.get("shapes-narrow"), by.get("shapes-wide")
    if not (narrow and wide and narrow["n_done"] and wide["n_done"]):
        return []
    c = compare(wide, narrow)
    return [{"label": text(lang, "shapes.card-label"),
             "value": f"{100 * wide['test_acc_mean']:.2f} %",
             "caption": text(lang, "shapes.card-caption", diff=f"{100 * c['diff']:+.2f}", n=wide["n_done"]),
             "help": text(lang, "shapes.card-help")}]
