"""The shape of the house: no import circles, the engine and the app shell
name no study, each study lives in one package, and no file is a tangle."""
import ast
import re
from pathlib import Path

from conftest import REPO

SOURCES = ["core", "experiments", "app_pages", "examples", "scripts", "streamlit_app.py"]


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> list[Path]:
    out = []
    for name in SOURCES:
        p = REPO / name
        out += [p] if p.is_file() else sorted(f for f in p.rglob("*.py") if "__pycache__" not in f.parts)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at the top or inside a
    function alike (an import run later is still a dependency)."""
    files = _files()
    known = {_module(f) for f in files}
    graph: dict[str, set[str]] = {}
    for f in files:
        me = _module(f)
        package = me if f.name == "__init__.py" else me.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from pkg import sub` imports the submodule sub when there is one
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for n in names:
                while n and n not in known:
                    n = n.rpartition(".")[0]
                if n and n != me:
                    deps.add(n)
        graph[me] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    found = circles(import_graph())
    assert found == [], f"{len(found)} import circle(s): {found}"


def test_the_engine_imports_no_study_and_no_page():
    """core/ is below everything: it finds the studies through core/study.py's
    registry, never by importing one; the app shell imports no study either."""
    graph = import_graph()
    for module, deps in graph.items():
        if module == "core" or module.startswith("core."):
            bad = {d for d in deps if not d.startswith("core")}
            assert not bad, f"{module} imports {bad}"
        if module.startswith("app_pages") or module == "streamlit_app":
            bad = {d for d in deps if d.startswith(("experiments", "examples"))}
            assert not bad, f"{module} imports {bad}"


# Every built-in study's name, dataset keys and experiment-name prefixes.
STUDY_WORDS = re.compile(r"mnist|captcha|caltech|c50|thsr|50-class|seed 00[02]", re.I)
SHELL = ["core", "app_pages", "streamlit_app.py", "experiments/__init__.py", "experiments/__main__.py",
         "content", ".streamlit"]


def test_no_file_outside_a_study_names_a_study():
    """The engine, the report machinery, the app shell and its texts name no
    study (code, comments and words alike): what a study brings lives in its
    package, experiments/<study>/."""
    named = []
    for name in SHELL:
        p = REPO / name
        for f in [p] if p.is_file() else sorted(p.rglob("*")):
            if f.is_file() and f.suffix in (".py", ".md", ".toml", ".json") and "__pycache__" not in f.parts:
                for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                    if STUDY_WORDS.search(line):
                        named.append(f"{f.relative_to(REPO)}:{n}: {line.strip()[:90]}")
    assert named == [], "\n".join(named)


def test_each_study_is_one_package():
    """Every study registered is a package of its own folder, holding its
    configs, texts and results document."""
    from core.study import studies
    for s in studies():
        assert s.package and (s.package / "__init__.py").is_file(), s.name
        assert s.content is None or s.content.is_relative_to(s.package), s.name
        if s.package.parent == REPO / "experiments":
            assert (s.package / "RESULTS.md").is_file(), f"{s.name}: no RESULTS.md"


def test_no_page_is_a_stub_and_no_file_is_a_tangle():
    pages = sorted(p.name for p in (REPO / "app_pages").glob("*.py"))
    assert len(pages) <= 10, pages  # the shell's pages and helpers; a study page is app_pages/page.py given its key
    longest = max(_files(), key=lambda f: len(f.read_text(encoding="utf-8").splitlines()))
    assert len(longest.read_text(encoding="utf-8").splitlines()) <= 700, longest


def test_the_readme_is_a_readme():
    assert (REPO / "README.md").stat().st_size <= 12_000


def test_a_study_may_not_take_another_studys_names_or_the_apps_pages():
    import pytest

    from core import study
    study.studies()
    mnist = study.study("mnist")
    with pytest.raises(study.StudyError, match="already belong to 'mnist'"):
        study.register(study.Study(name="copy", title="Copy", experiments={"mnist-fair-nn1": None}))
    with pytest.raises(study.StudyError, match="already belong to 'mnist'"):
        study.register(study.Study(name="copy", title="Copy", experiments={}, datasets=list(mnist.datasets)))
    with pytest.raises(study.StudyError, match="belong to the app itself"):
        study.register(study.Study(name="copy", title="Copy", experiments={}, pages=[study.Page("runs", "Runs")]))
    assert "copy" not in {s.name for s in study.studies()}
