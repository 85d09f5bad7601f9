"""The 繁體中文 interface shows no English but names: every page, opened in
Chinese on the committed runs, is scanned for English words outside code,
identifiers (experiment, model, layer and run names) and the technical terms
that Chinese course reports keep in English."""
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, goto, node_table, page_urls

APP = str(REPO / "streamlit_app.py")
PAGES = page_urls()  # every page of the app, by its url path

# Terms kept in English in Chinese technical writing (the seed reports do),
# units, file formats and product names.
ALLOWED = {
    "CNN", "CNNs", "MNIST", "Keras", "TensorFlow", "Lite", "JAX", "ONNX", "OpenCV", "Caltech", "THSR", "Kaggle",
    "JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "HTML", "PDF", "Word", "CSV", "JSON", "CPU", "GPU", "AMD", "EPYC",
    "BatchNorm", "BatchNormalization", "Batch", "Normalization", "ReLU", "GELU", "sigmoid", "softmax", "Adam",
    "AdamW", "dropout", "Dropout", "epoch", "epochs", "seed", "seeds", "run", "runs", "batch", "early", "stopping",
    "patience", "padding", "same", "valid", "CutMix", "MixUp", "VGG", "GAP", "ReduceLROnPlateau", "LR",
    "flatten", "Flatten", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
    "InputLayer", "Rescaling", "Random", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "tf", "data", "nopre", "dn2", "arc", "scikit", "learn", "balanced", "std", "se", "Welch",
    "English", "Language", "app", "Streamlit", "MB", "KB", "ms", "px", "dpi", "None", "Model", "NN", "model",
    "Output", "Input", "Retrain", "AveragePooling", "SIGSTOP",
}

def _names() -> set[str]:
    """Names are not English to translate: experiments, models, their layers."""
    import json

    from core import model_tables
    from experiments import EXPERIMENTS
    names = set(EXPERIMENTS)
    for f in (REPO / "runs").glob("c50-*/*/classes.json"):  # Caltech-101's class names
        names.update(json.loads(f.read_text(encoding="utf-8")).get("classes", []))
    for k, rows in model_tables._stored().items():
        names.add(k.split("|")[0])
        names.update(r["layer"] for r in rows)
    return names


# "cores": in a run's recorded device, "CPU (2 cores)"; "tflite", "onnxruntime (C API)": runtimes a benchmark used
ALLOWED |= _names() | {"cores", "tflite", "onnxruntime", "API", "ddddocr", "MiB"}
CAPTCHA = re.compile(r"^[2-9A-Z]{4}$")  # four captcha characters, a reading or a label
# identifiers: anything with a hyphen, underscore, slash, dot or digit inside
IDENT = re.compile(r"\S*[-_/.\d]\S*")
WORD = re.compile(r"[A-Za-z][A-Za-z']+")


def _texts(at) -> list[str]:
    out = []

    def walk(node):
        kind = getattr(node, "type", None)
        df = node_table(node)
        if df is not None:
            out.extend(str(c) for c in df.columns)
            for col in df.columns:  # text cells (object or pandas' string dtype), not numbers
                if not pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_datetime64_any_dtype(df[col]):
                    out.extend(str(v) for v in df[col].dropna().unique())
        elif kind == "html":  # other HTML (style sheets): its text, without tags or CSS
            body = re.sub(r"<style.*?</style>", " ", node.value or "", flags=re.S)
            out.append(re.sub(r"<[^>]+>", " ", body))
        elif kind not in ("vega_lite_chart", "code") and hasattr(node, "proto"):  # st.code is code
            for attr in ("value", "label", "body", "help", "placeholder"):
                try:
                    v = getattr(node, attr, None)
                except Exception:  # some widgets have no value outside a run
                    v = None
                if isinstance(v, str):
                    out.append(v)
            if kind in ("selectbox", "multiselect", "radio"):
                out.extend(str(o) for o in node.options)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)
    walk(at.main)
    walk(at.sidebar)
    return out


def english_words(text: str) -> set[str]:
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)  # LaTeX display math (st.latex)
    text = re.sub(r"\$[^$\n]+\$", " ", text)        # inline math
    text = re.sub(r"`[^`]*`", " ", text)           # code and commands
    text = re.sub(r"\]\([^)]*\)", "]", text)        # link targets
    text = IDENT.sub(" ", text)
    return {w for w in WORD.findall(text)
            if w not in ALLOWED and w.lower() not in ALLOWED and not CAPTCHA.match(w)}


def test_scanner_finds_english_and_spares_names():
    assert english_words("模型 captcha-net-clean 的 val_loss，`python -m experiments run`") == set()
    assert english_words("驗證 accuracy") == {"accuracy"}
    assert english_words("$$\n\\text{Output} = \\frac{n + 2p - f}{s} + 1\n$$ 公式 $\\cdot$") == set()


@pytest.mark.parametrize("page", PAGES)
def test_page_in_chinese_shows_no_english(page, monkeypatch):
    monkeypatch.delenv("CNNLAB_RUNS_DIR", raising=False)  # the committed runs
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang_choice"] = "繁體中文"
    at.run()
    if page != "":
        goto(at, page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    found = {}
    for text in _texts(at):
        for w in english_words(text):
            found.setdefault(w, text[:120])
    assert not found, f"{page}: English in the Chinese interface: " + "; ".join(
        f"{w!r} in {t!r}" for w, t in sorted(found.items())[:25])
