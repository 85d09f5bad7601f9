"""Charts for the exports: Altair/Vega-Lite specs given a fixed size (the app
leaves the width to its container; a file has none) and rendered to PNG by
vl-convert once per export, shared between this process and a child process
per further core (rendering dominates an export). Used by HTML (specs, Vega
version), PDF and Word (PNGs); no format module is imported from here.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import struct
import subprocess

# Chart sizes (px) where a chart leaves its width to its container or to Vega:
# one chart fills the text width, charts in a row share it.
CHART_WIDTH, ROW_WIDTH = 640, 640
ROW_CHARTS = 2  # charts of a row two abreast on the printed page (the app stacks them in one view)
PDF_SCALE, DOCX_SCALE = 3, 2  # PNG pixels per chart pixel: sharp in print / small in Word


def _spec(chart) -> dict:
    """The chart as a Vega-Lite dict (a dict passes through). The app shows
    charts of any size; Altair's 5,000-row guard is lifted for exports."""
    if isinstance(chart, dict):
        return copy.deepcopy(chart)
    import altair as alt
    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict(validate=False)


def _facet_columns(spec: dict) -> int:
    facet = spec.get("facet")
    if not isinstance(facet, dict):
        return 1
    col = facet.get("column") if "column" in facet else (facet if "field" in facet else None)
    if not isinstance(col, dict) or "field" not in col:
        return 1
    field = col["field"]
    values = None
    data = spec.get("data") or {}
    if "values" in data:
        values = data["values"]
    elif "name" in data:
        values = (spec.get("datasets") or {}).get(data["name"])
    n = len({json.dumps(v.get(field), default=str) for v in values if isinstance(v, dict)}) if values else 3
    if "columns" in spec and isinstance(spec["columns"], int):
        n = min(n, spec["columns"])
    return max(1, n)


def _unsized(v) -> bool:
    """A width Vega would take from the page (a {"step": n} width is fixed)."""
    return v is None or v == "container"


def static_spec(chart, width: int = CHART_WIDTH) -> dict:
    """A spec that renders at a fixed size without a browser: a width left to
    the container (or to Vega's default) becomes `width` px; a faceted chart's
    panels share about 1.25 `width` so their labels stay legible once the
    picture is scaled to the page; bars are clipped to their axis (a bar
    whose domain starts above zero would otherwise widen the picture)."""
    spec = _spec(chart)
    _fix_size(spec, width)
    config = spec.setdefault("config", {})
    config.setdefault("bar", {}).setdefault("clip", True)
    return spec


def _fix_size(spec: dict, width: float) -> None:
    if "facet" in spec and isinstance(spec.get("spec"), dict):
        inner = spec["spec"]
        n = _facet_columns(spec)
        panel = max(120, int(1.25 * width / n) - 50)
        if _unsized(inner.get("width")) or (isinstance(inner.get("width"), (int, float)) and inner["width"] > panel):
            inner["width"] = panel
        if inner.get("height") == "container":
            inner["height"] = 240
        for key in ("width", "height"):
            if spec.get(key) == "container":
                del spec[key]
        return
    if "repeat" in spec and isinstance(spec.get("spec"), dict):
        _fix_size(spec["spec"], width / 2)
        return
    if "hconcat" in spec or "concat" in spec:
        items = spec.get("hconcat") or spec.get("concat") or []
        for item in items:
            if isinstance(item, dict):
                _fix_size(item, max(150, width / max(1, len(items)) - 20))
        return
    if "vconcat" in spec:
        for item in spec["vconcat"]:
            if isinstance(item, dict):
                _fix_size(item, width)
        return
    if _unsized(spec.get("width")):
        spec["width"] = int(width)
    if spec.get("height") == "container":
        spec["height"] = 300


@functools.lru_cache(maxsize=1)
def _vl_version() -> str:
    from altair.utils._importers import vl_version_for_vl_convert
    return vl_version_for_vl_convert()


# A worker process: renders the specs of a JSON file to 0.png, 1.png, ... in a
# folder. It imports vl_convert only, so starting one costs well under a second.
_WORKER = """
import json, os, sys
import vl_convert as vlc
jobs = json.load(open(sys.argv[1], encoding="utf-8"))
for i, (spec, scale, version) in enumerate(jobs):
    png = vlc.vegalite_to_png(spec, scale=scale, vl_version=version)
    with open(os.path.join(sys.argv[2], f"{i}.png.part"), "wb") as f:
        f.write(png)
    os.replace(os.path.join(sys.argv[2], f"{i}.png.part"), os.path.join(sys.argv[2], f"{i}.png"))
"""


def _render_here(jobs) -> list[bytes]:
    import vl_convert as vlc
    return [vlc.vegalite_to_png(spec, scale=scale, vl_version=version) for spec, scale, version in jobs]


def _render_parallel(jobs, workers: int) -> list[bytes]:
    """Share the jobs between this process and `workers - 1` child processes
    (plain `python -c`, so no re-import of the caller's main module)."""
    import sys
    import tempfile
    order = sorted(range(len(jobs)), key=lambda i: -len(json.dumps(jobs[i][0], default=str)))
    shares = [order[k::workers] for k in range(workers)]
    out: list = [None] * len(jobs)
    with tempfile.TemporaryDirectory(prefix="cnnlab-charts-") as tmp:
        procs = []
        try:
            for k, share in enumerate(shares[1:], start=1):
                folder = os.path.join(tmp, str(k))
                os.mkdir(folder)
                with open(os.path.join(tmp, f"{k}.json"), "w", encoding="utf-8") as f:
                    json.dump([jobs[i] for i in share], f, default=str)
                procs.append((share, folder, subprocess.Popen(
                    [sys.executable, "-c", _WORKER, os.path.join(tmp, f"{k}.json"), folder],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            for i, png in zip(shares[0], _render_here([jobs[i] for i in shares[0]])):
                out[i] = png
            for share, folder, proc in procs:
                proc.wait(timeout=600)
                for j, i in enumerate(share):
                    path = os.path.join(folder, f"{j}.png")
                    if os.path.exists(path):
                        with open(path, "rb") as f:
                            out[i] = f.read()
        finally:
            for _, _, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    missing = [i for i, png in enumerate(out) if png is None]  # a worker that failed: redo its charts here
    for i, png in zip(missing, _render_here([jobs[i] for i in missing])):
        out[i] = png
    return out


_PNG_CACHE: dict[tuple[str, float], bytes] = {}
_PNG_CACHE_MAX = 256


def render_pngs(specs: list[dict], scale: float) -> list[bytes]:
    """Every chart rendered once per export (and reused between exports of
    the same process). Rendering dominates an export and vl-convert holds
    the interpreter, so with many charts this process and one child process
    per further core share them ($CNNLAB_EXPORT_WORKERS sets the number of
    processes; 1 renders here only)."""
    texts = [json.dumps(s, sort_keys=True, default=str) for s in specs]
    keys = [(hashlib.sha1(t.encode()).hexdigest(), float(scale)) for t in texts]
    todo = {}
    for k, spec in zip(keys, specs):
        if k not in _PNG_CACHE:
            todo.setdefault(k, spec)
    if todo:
        version = _vl_version()
        jobs = [(spec, float(scale), version) for spec in todo.values()]
        try:
            workers = int(os.environ.get("CNNLAB_EXPORT_WORKERS", "0")) or min(4, os.cpu_count() or 1)
        except ValueError:
            workers = 1
        workers = max(1, min(workers, len(jobs) // 4))
        if workers > 1:
            try:
                pngs = _render_parallel(jobs, workers)
            except (OSError, subprocess.SubprocessError):
                pngs = _render_here(jobs)
        else:
            pngs = _render_here(jobs)
        if len(_PNG_CACHE) + len(pngs) > _PNG_CACHE_MAX:
            _PNG_CACHE.clear()
        _PNG_CACHE.update(zip(todo, pngs))
    return [_PNG_CACHE[k] for k in keys]


def png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def _chart_specs(sections) -> list[list[dict]]:
    """Static specs of every chart block, in order: one list per block."""
    out = []
    for _, _, blocks in sections:
        for kind, value in blocks:
            if kind == "chart":
                out.append([static_spec(value, CHART_WIDTH)])
            elif kind == "row":
                n = max(1, min(ROW_CHARTS, len(value)))
                w = max(200, int(ROW_WIDTH / n) - 20)
                out.append([static_spec(c, w) for c in value])
    return out


def _rendered_charts(sections, scale) -> list[list[bytes]]:
    groups = _chart_specs(sections)
    flat = render_pngs([s for g in groups for s in g], scale)
    out, i = [], 0
    for g in groups:
        out.append(flat[i:i + len(g)])
        i += len(g)
    return out
