"""A study: everything one line of experiments brings, in one package that
registers one `Study`. The engine, the report, the app's navigation, the Data
page, the Overview, the exports and the command line are built from the
registered studies and name none of them.

Where studies come from: every sub-package of `experiments/` that defines
`STUDY` (the built-in ones: one folder each), then every module named in
$CNNLAB_PLUGINS (comma-separated) that defines `STUDY` or calls `register`.
A new study is therefore one new folder; `examples/folder_study/` is one.
A study of one's own needs not even that: runs recorded from one's own
`model.fit` (core/recorder.py) or imported from one's logs (core/importers.py)
name their study, and `studies()` registers one for each name it finds in the
runs folders (core/own.py), with its page, card and export sections.

Callables may be given as "package.module:name" strings: they are imported
when first used, so listing experiments or checking a config imports neither
Keras nor a study's report code.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

PLUGINS_ENV = "CNNLAB_PLUGINS"
# The package whose sub-packages are the built-in studies (a name, not an
# import: the engine depends on no study).
BUILTIN_PACKAGE = os.environ.get("CNNLAB_STUDIES_PACKAGE", "experiments")


def resolve(target):
    """A callable or class from "module:name" (or the object itself)."""
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class Page:
    """One page of a study in the app (and, with `blocks`, in every export).

    `blocks(lang, root) -> [block]` makes a report page (core/report.py's
    content model); `script` (a path relative to the study's package) is a
    Streamlit page of the study's own, for what only the app can do (upload a
    file). `panel` (a Streamlit function) is drawn after the first
    `panel_after` blocks; `retrain()` lists the experiments offered for
    retraining under the page."""
    key: str                                 # url path and export key
    title: str | dict                        # a content key ("nav.<page>") or {"en": ..., "zh": ...}
    icon: str = ":material/science:"
    blocks: str | Callable | None = None
    script: str | None = None
    panel: str | Callable | None = None
    panel_after: int = 2
    retrain: str | Callable | None = None
    after: str | Callable | None = None      # Streamlit function drawn after the blocks (a gallery)
    export_title: str | dict | None = None   # its name in the export's page list (default: title)


@dataclass
class Dataset:
    """A dataset a study reads: `status(root) -> core.datadir.Dataset` says
    whether it is in the data directory and how to fetch it; `missing` are the
    exceptions its loader raises when it is not (a run then ends "no data")."""
    key: str
    status: str | Callable
    missing: tuple = ()


@dataclass
class Study:
    name: str
    title: str | dict                        # its section in the navigation
    experiments: dict                        # name -> get(quick=False) -> config
    claims: list = field(default_factory=list)
    tasks: dict = field(default_factory=dict)          # data.dataset -> "module:Task"
    datasets: list = field(default_factory=list)       # [Dataset]
    config_keys: dict = field(default_factory=dict)    # {"data": {key: check}, "train": {...}}
    check: str | Callable | None = None      # check(config) raises ConfigError: rules across keys
    models: list = field(default_factory=list)         # modules of @register builders
    pages: list = field(default_factory=list)          # [Page]
    cards: str | Callable | None = None      # cards(lang, rows) -> [metric]: the Overview's
    overview: str | Callable | None = None   # overview(lang, rows) -> {"forest", "summary", "details"}
    report: str | Callable | None = None     # report(rows, group) -> [markdown]: `experiments report` extras
    report_rows: str | Callable | None = None  # report_rows(group) -> names listed with a --group
    content: Path | None = None              # its texts: <content>/<lang>/<file>.md
    model_tables: Path | None = None         # its models' layer tables (core/model_tables.py)
    model_sizes: str | Callable | None = None  # model_sizes(config) -> [size]: the sizes its pages show
    sized_table: str | Callable | None = None  # sized_table(name, kwargs, size) -> that table
    package: Path | None = None              # its folder (scripts are relative to it)
    intro: str | None = None                 # content key: its phrase in the Overview's first paragraph
    declared: dict | None = None             # experiments.declare()'s spec (title, text, baseline, experiments)


_STUDIES: dict[str, Study] = {}
_loaded = False


class StudyError(ValueError):
    pass


SHELL_PAGES = {"", "overview", "runs", "data"}  # the app's own pages: no study may take their keys


def register(study: Study) -> Study:
    """Add a study; its experiment names, page keys and datasets must be new."""
    keys = {p.key for p in study.pages}
    if keys & SHELL_PAGES:
        raise StudyError(f"study {study.name!r}: page key(s) {', '.join(sorted(keys & SHELL_PAGES))} "
                         "belong to the app itself")
    for other in _STUDIES.values():
        if other.name == study.name:
            continue
        clash = (set(other.experiments) & set(study.experiments)) or ({p.key for p in other.pages} & keys) or \
            ({d.key for d in other.datasets} & {d.key for d in study.datasets})
        if clash:
            raise StudyError(f"study {study.name!r}: {', '.join(sorted(clash))} already belong to {other.name!r}")
    _STUDIES[study.name] = study
    if study.content:
        from core import text
        text.add_content(study.content)
    return study


def _import_studies() -> None:
    global _loaded
    _loaded = True
    try:
        package = importlib.import_module(BUILTIN_PACKAGE)
    except ImportError:
        package = None
    if package is not None:
        found = sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name)
        modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in found if m.ispkg]
        for module in sorted((m for m in modules if hasattr(m, "STUDY")), key=lambda m: getattr(m, "ORDER", 100)):
            register(module.STUDY)
    load_plugins()


def load_plugins() -> None:
    """Import the modules named in $CNNLAB_PLUGINS (comma-separated): each
    registers its study by defining STUDY (or by calling register, declare,
    register_task or @register itself)."""
    for name in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        module = importlib.import_module(name)
        if isinstance(getattr(module, "STUDY", None), Study):
            register(module.STUDY)


def code_studies() -> list[Study]:
    """The studies of code: the built-in ones first (in their ORDER), then the
    plugins' and the declared ones."""
    if not _loaded:
        _import_studies()
    return list(_STUDIES.values())


def owners() -> dict[str, str]:
    """experiment -> the study of code that declares it."""
    return {e: s.name for s in code_studies() for e in s.experiments}


def studies() -> list[Study]:
    """Every study: those of code, then those of one's own found in the runs
    folders the app reads (core/own.py), each once per state of its records."""
    code = code_studies()
    return code + own_studies(code)


class _OwnBlocks:
    """A study of one's own's page: core.report's declared-study page, drawn
    from its runs (imported when drawn, so listing studies imports no pandas)."""

    def __init__(self, group: str):
        self.group = group

    def __call__(self, lang: str = "en", root=None):
        return resolve("core.report:group_blocks")(self.group, lang, root)


class _OwnCards(_OwnBlocks):
    def __call__(self, lang: str, rows: list[dict]):
        return resolve("core.report:group_cards")(self.group, lang, rows)


_OWN: dict[str, tuple[dict, Study]] = {}
_ROOTS: list[Path] = []  # runs folders named on a command line, read beside the app's


def add_runs_root(path) -> None:
    """Also find studies of one's own in this runs folder (--runs-dir)."""
    path = Path(path).expanduser()
    if path not in _ROOTS:
        _ROOTS.append(path)


def own_studies(code: list[Study] | None = None) -> list[Study]:
    """A Study for each study of one's own in the runs folders: its
    experiments are its runs' configs; its one page, card and export section
    are the declared-study ones (core/report.py: group_blocks, group_cards).
    A name that is one of code's studies is not taken (core/own.py's writers
    refuse it); one that is a page key taken gets a page key prefixed "yours-"."""
    from core import own
    code = code_studies() if code is None else code
    names = {s.name for s in code}
    taken = SHELL_PAGES | {p.key for s in code for p in s.pages} | names
    declared = {e for s in code for e in s.experiments}
    out = []
    from core.records import run_roots
    roots = list(dict.fromkeys([*run_roots(), *_ROOTS]))
    for name, spec in own.own_studies(declared, roots).items():
        if name in names:
            continue
        hit = _OWN.get(name)
        if hit is None or hit[0] is not spec:
            key = name if name not in taken else f"yours-{name}"
            experiments = {e: _own_getter(config) for e, config in spec["experiments"].items()}
            hit = _OWN[name] = (spec, Study(
                name=name, title="nav.yours",
                experiments=experiments, declared=spec,
                pages=[Page(key, spec["title"], icon=":material/person:", blocks=_OwnBlocks(name))],
                cards=_OwnCards(name)))
        out.append(hit[1])
    return out


def _own_getter(config: dict) -> Callable:
    import copy

    def get(quick: bool = False) -> dict:
        return copy.deepcopy(config)
    return get


def study(name: str) -> Study:
    for s in studies():
        if s.name == name:
            return s
    raise KeyError(f"no study {name!r}; known: {', '.join(s.name for s in studies())}")


def experiments() -> dict[str, Callable]:
    """Every study's experiments, by name, in study order."""
    out: dict = {}
    for s in studies():
        out.update(s.experiments)
    return out


class UnknownExperiment(KeyError):
    pass


def get_config(name: str, quick: bool = False) -> dict:
    """An experiment's config (without a seed), any study's; quick: seconds."""
    known = experiments()
    if name not in known:
        close = [n for n in known if name.split("-")[0] in n][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownExperiment(f"unknown experiment {name!r}{hint} "
                                "(`python -m experiments list` shows them all)")
    return known[name](quick)


def claims() -> list[dict]:
    return [c for s in studies() for c in s.claims]


def tasks() -> dict[str, str]:
    return {k: v for s in studies() for k, v in s.tasks.items()}


def pages() -> list[tuple[Study, Page]]:
    return [(s, p) for s in studies() for p in s.pages]


def page(key: str) -> tuple[Study, Page]:
    for s, p in pages():
        if p.key == key:
            return s, p
    raise KeyError(key)


def study_of(experiment: str) -> Study | None:
    """The study an experiment is one of (code's or one's own), or None."""
    return next((s for s in studies() if experiment in s.experiments), None)


def datasets(explicit=None) -> list:
    """Every registered study's datasets as found in the data directory
    (core.datadir.Dataset each): what the Data page shows."""
    from core.datadir import data_dir
    root = data_dir(explicit)
    return [resolve(d.status)(root) for s in studies() for d in s.datasets]


def no_data_errors() -> tuple[type, ...]:
    """The exceptions that mean "this run's data is not in the data directory"."""
    from core.datadir import DataNotFound
    return (DataNotFound, *(resolve(e) for s in studies() for d in s.datasets for e in d.missing))


def local(lang: str, value: Any) -> str:
    """A title given as {"en": ..., "zh": ...}, a content key or plain text."""
    if isinstance(value, dict):
        return value.get(lang) or value.get("en", "")
    from core.text import MissingText, text
    if isinstance(value, str) and "." in value and " " not in value:
        try:
            return text(lang, value)
        except MissingText:
            pass
    return value
