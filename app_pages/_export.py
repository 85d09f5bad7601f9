"""The Overview page's export panel: the report as one file to hand in
(HTML, PDF or Word), in the reader's language, all pages or some.

The file is built by `python -m experiments report --export FILE` in a
subprocess, never in the script thread: a PDF of the whole report takes tens
of seconds, and a crash there cannot take the app with it. The panel polls it
with a status line, offers the bytes for download, and keeps them in
st.session_state so the button survives reruns. A failure shows the
command's own last error line, with its whole stderr in an expander.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import streamlit as st

from core.records import runs_dir
from app_pages._common import T, lang

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 180
FORMATS = {  # label -> (extension, mime type)
    "HTML": ("html", "text/html"),
    "PDF": ("pdf", "application/pdf"),
    "Word": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}
_STATE = "export:file"
_ERROR = "export:error"
# Log lines of TensorFlow, absl and the like: never the reason a build failed.
_NOISE = re.compile(r"^(I0000|W0000|E0000|WARNING: All log messages|To enable the following|"
                    r"oneDNN custom operations|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]*: [IWE] )")


def page_titles(language: str) -> dict[str, str]:
    """Report page key -> its title in the sidebar's words, in report order."""
    from core.export import page_keys
    from core.report import page_title
    return {key: page_title(language, key) for key in page_keys()}


def last_error_line(stderr: str) -> str:
    """The line that says why: the command's own "error: ..." line, else the
    last line that is neither log noise nor part of a traceback's frames."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error:"):
            return line[len("error:"):].strip()
    for line in reversed(lines):
        if not _NOISE.match(line) and not line.startswith(("File \"", "Traceback", "^", "~")):
            return line
    return ""


def file_name(ext: str, language: str, keys: list[str]) -> str:
    from core.export import file_name as name
    return name(ext, language, keys)


def _command(out: Path, language: str, keys: list[str]) -> list[str]:
    return [sys.executable, "-m", "experiments", "--runs-dir", str(runs_dir()), "report",
            "--export", str(out), "--lang", language, "--pages", ",".join(keys)]


def _build(label: str, language: str, keys: list[str]) -> None:
    """Run the export command, polling it under a status line; leave the file
    (or the failure) in session state."""
    ext, mime = FORMATS[label]
    name = file_name(ext, language, keys)
    state = st.session_state
    state.pop(_ERROR, None)
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="cnnlab-export-") as tmp:
        out, err_path = Path(tmp) / name, Path(tmp) / "stderr.txt"
        start, timed_out = time.time(), False
        with st.status(T("export.building", name=name), expanded=False) as status:
            with open(err_path, "wb") as err:
                try:
                    proc = subprocess.Popen(_command(out, language, keys), cwd=REPO, env=env,
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
                except OSError as e:
                    state[_ERROR] = {"msg": str(e), "stderr": ""}
                    status.update(label=T("export.failed"), state="error")
                    return
                while proc.poll() is None:
                    elapsed = time.time() - start
                    if elapsed > TIMEOUT_S:
                        proc.kill()
                        proc.wait()
                        timed_out = True
                        break
                    status.update(label=T("export.building-for", name=name, s=f"{elapsed:.0f}"))
                    time.sleep(0.5)
            stderr = err_path.read_text(encoding="utf-8", errors="replace")
            if proc.returncode == 0 and out.is_file():
                state[_STATE] = {"name": name, "data": out.read_bytes(), "mime": mime,
                                 "seconds": time.time() - start}
                status.update(label=T("export.ready", name=name, s=f"{time.time() - start:.0f}"), state="complete")
                return
            if timed_out:
                msg = T("export.timed-out", s=TIMEOUT_S)
            else:
                msg = last_error_line(stderr) or T("export.exit-code", code=proc.returncode)
            state[_ERROR] = {"msg": msg, "stderr": stderr}
            status.update(label=T("export.failed"), state="error")


def export_panel() -> None:
    """Choose format and pages, build in a subprocess, download."""
    language = lang()
    titles = page_titles(language)
    state = st.session_state
    st.subheader(T("export.title"))
    st.caption(T("export.intro"))
    c1, c2 = st.columns([1, 3])
    label = c1.radio(T("export.format"), list(FORMATS), key="export:format", horizontal=False,
                     format_func=lambda f: {"HTML": "HTML", "PDF": "PDF", "Word": T("export.word")}[f])
    keys = c2.multiselect(T("export.pages"), list(titles), default=list(titles), key="export:pages",
                          format_func=lambda k: titles.get(k, k),
                          help=T("export.pages-help"))
    if st.button(T("export.build"), type="primary", key="export:build", disabled=not keys,
                 icon=":material/build:"):
        _build(label, language, [k for k in titles if k in keys])
    if not keys:
        st.caption(T("export.no-pages"))
    error = state.get(_ERROR)
    if error:
        st.error(T("export.failed-because", msg=error["msg"]))
        if error.get("stderr"):
            with st.expander(T("export.details")):
                st.code(error["stderr"][-20000:], language=None)
    built = state.get(_STATE)
    if built:
        st.download_button(T("export.download", name=built["name"], mb=f"{len(built['data']) / 1e6:.1f}"),
                           data=built["data"], file_name=built["name"], mime=built["mime"],
                           key="export:download", icon=":material/download:", on_click="ignore")
