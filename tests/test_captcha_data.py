import hashlib
import shutil

import numpy as np
import pytest

from experiments.captcha.data import CaptchaDataNotFound, list_items, load_splits, preprocess_items, split


def test_split_is_deterministic_disjoint_and_keeps_duplicates_together(tiny_captchas):
    items = list_items(tiny_captchas)
    assert len(items) == 70
    train, val, test = split(items, test_size=15)
    assert len(test) == 15
    assert len(train) + len(val) + len(test) == 70
    refs = [{it.ref for it in part} for part in (train, val, test)]
    assert not (refs[0] & refs[1] or refs[0] & refs[2] or refs[1] & refs[2])
    for part in (train, val, test):  # each duplicate pair sits wholly in one part
        names = {it.ref for it in part}
        for a, b in (("setA/3", "setA/4"), ("setA/10", "setA/11")):
            assert (a in names) == (b in names)
    again = split(list_items(tiny_captchas), test_size=15)
    assert [it.ref for it in again[2]] == [it.ref for it in test]


def test_split_follows_content_not_file_names(tiny_captchas, tmp_path):
    """Renaming a set (or reading it on another machine) must not move images
    between training and test."""
    _, _, test = split(list_items(tiny_captchas), test_size=15)
    renamed = tmp_path / "other"
    shutil.copytree(tiny_captchas / "thsr-captcha" / "setA", renamed / "thsr-captcha" / "zzz")
    shutil.copytree(tiny_captchas / "thsr-captcha" / "setB", renamed / "thsr-captcha" / "aaa")
    _, _, test2 = split(list_items(renamed), test_size=15)
    assert sorted(it.digest for it in test) == sorted(it.digest for it in test2)


def test_missing_data_names_the_expected_layout(tmp_path):
    with pytest.raises(CaptchaDataNotFound, match="labels.csv"):
        list_items(tmp_path)


def test_preprocessing_is_cached_and_matches(tiny_captchas, tmp_path):
    items = list_items(tiny_captchas)[:5]
    a = preprocess_items(items, "grey", {"height": 32, "width": 96})
    assert a.shape == (5, 32, 96, 1) and a.dtype == np.uint8
    assert list((tmp_path / "cache").glob("captcha-grey-*.npy"))
    b = preprocess_items(items, "grey", {"height": 32, "width": 96})
    assert np.array_equal(a, b)
    c = preprocess_items(items, "dn2")
    assert c.shape == (5, 50, 130, 1)


def test_half_written_cache_is_rebuilt(tiny_captchas, tmp_path):
    items = list_items(tiny_captchas)[:3]
    a = preprocess_items(items, "nopre")
    for f in (tmp_path / "cache").glob("*.npy"):
        f.write_bytes(f.read_bytes()[:50])  # as if killed mid-write
    assert np.array_equal(preprocess_items(items, "nopre"), a)


def test_load_splits_shapes(tiny_captchas):
    d = load_splits({"dataset": "thsr-captcha", "preprocess": "nopre", "test_size": 10,
                     "val_fraction": 0.2}, 0, tiny_captchas)
    assert d["x_train"].shape[1:] == (50, 130, 3) and d["y_train"].shape[1] == 4
    assert len(d["y_test"]) == 10 and len(d["y_train"]) + len(d["y_val"]) == 60
    assert d["x_train"].max() <= 1.0 and d["y_train"].max() < 19


def test_real_split_holds_3000_and_no_training_image(real_captchas):
    items = list_items(real_captchas)
    assert len(items) == 16000
    train, val, test = split(items)
    assert len(test) == 3000
    test_digests = {it.digest for it in test}
    assert not test_digests & {it.digest for it in train + val}
    # a stable fingerprint: the split never silently changes between versions
    fp = hashlib.sha1("".join(sorted(it.ref for it in test)).encode()).hexdigest()
    assert fp == "43855ce1b1406ee014cba78061ac66569d499c7f"
    assert (len(train), len(val)) == (10400, 2600)


def test_leave_one_source_out_tests_on_the_whole_source_and_never_trains_on_it(tiny_captchas):
    from experiments.captcha.data import CaptchaDataNotFound, config_split, list_items
    # setB's first captcha copied into setA: the copy may not train a model tested on setB
    root = tiny_captchas / "thsr-captcha"
    (root / "setA" / "images" / "40.jpg").write_bytes((root / "setB" / "images" / "1.jpg").read_bytes())
    train, val, test = config_split({"test_source": "setB", "val_fraction": 0.25}, tiny_captchas)
    assert {it.source for it in test} == {"setB"} and len(test) == 30
    assert {it.source for it in train + val} == {"setA"}
    assert len(train) + len(val) == 39  # setA's 40 less the copy of a test image
    assert not {it.digest for it in test} & {it.digest for it in train + val}
    assert [it.ref for it in config_split({"test_source": "setB", "val_fraction": 0.25}, tiny_captchas)[0]] \
        == [it.ref for it in train]  # deterministic
    with pytest.raises(CaptchaDataNotFound, match="setC"):
        config_split({"test_source": "setC"}, tiny_captchas)
    assert len(list_items(tiny_captchas)) == 70


@pytest.mark.parametrize("experiment, test_source, n_test, n_train_val", [
    ("captcha-xsrc-to-hand", "handlabeled-5000", 5000, 11000),
    ("captcha-xsrc-to-verified", "verified-11000", 11000, 5000),
    ("captcha-xsrc-to-verified-undo", "verified-11000", 11000, 5000),
])
def test_the_cross_source_experiments_build_with_their_stated_splits(real_captchas, experiment, test_source,
                                                                     n_test, n_train_val):
    from experiments.captcha.data import config_split
    from experiments import get_config
    cfg = get_config(experiment)
    assert cfg["data"]["test_source"] == test_source and "relabel" not in cfg["data"]
    train, val, test = config_split(cfg["data"], real_captchas)
    assert {it.source for it in test} == {test_source} and len(test) == n_test
    assert test_source not in {it.source for it in train + val}
    assert len(train) + len(val) == n_train_val and len(val) == n_train_val // 5
    assert not {it.digest for it in test} & {it.digest for it in train + val}


def test_the_cleaned_cross_source_experiment_relabels_its_training_source_only(real_captchas):
    """captcha-xsrc-to-hand-clean: captcha-xsrc-to-hand-undo's split, its training
    and validation labels from a list its own seeds proposed; the list names no
    test-source image and the test labels stay as given."""
    from experiments.captcha import relabel
    from experiments.captcha.data import config_split
    from experiments import get_config
    cfg, base = get_config("captcha-xsrc-to-hand-clean"), get_config("captcha-xsrc-to-hand-undo")
    assert {k: v for k, v in cfg["data"].items() if k != "relabel"} == base["data"]
    fixes = relabel.load(cfg["data"]["relabel"])
    assert fixes and all(ref.startswith("verified-11000/") for ref in fixes)
    train, val, test = config_split(cfg["data"], real_captchas)
    _, _, test_given = config_split(base["data"], real_captchas)
    assert [(t.ref, t.label) for t in test] == [(t.ref, t.label) for t in test_given]
    dropped = sum(v is None for v in fixes.values())
    assert len(train) + len(val) == 11000 - dropped
    assert f"{len(fixes) - dropped} relabelled, {dropped} dropped" in cfg["notes"]  # the notes say what the list holds


def test_synthetic_captchas_join_training_only_the_same_for_a_seed(tiny_captchas):
    """data.synthetic: generated captchas with the real ones' inverting arc, at
    crawl sizes, a share rescaled to 140 x 48, prepared like the real images;
    validation and test stay real."""
    from experiments.captcha import ALPHABET
    from experiments.captcha.data import load_splits
    from core.config import ConfigError, validate
    from experiments import get_config
    cfg = {"test_source": "setB", "val_fraction": 0.25, "preprocess": "grey",
           "preprocess_options": {"height": 40, "width": 112, "undo_arc": True}}
    plain = load_splits(cfg, 0, tiny_captchas)
    mixed = load_splits({**cfg, "synthetic": {"n": 12, "scaled": 0.5}}, 0, tiny_captchas)
    assert len(mixed["x_train"]) == len(plain["x_train"]) + 12
    np.testing.assert_array_equal(mixed["x_train"][:len(plain["x_train"])], plain["x_train"])
    for part in ("val", "test"):
        np.testing.assert_array_equal(mixed[f"x_{part}"], plain[f"x_{part}"])
    x, y = mixed["x_train"][-12:], mixed["y_train"][-12:]
    assert x.shape[1:] == (40, 112, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (12, 4) and y.min() >= 0 and y.max() < len(ALPHABET)
    again = load_splits({**cfg, "synthetic": {"n": 12, "scaled": 0.5}}, 0, tiny_captchas)
    np.testing.assert_array_equal(again["x_train"], mixed["x_train"])
    other = load_splits({**cfg, "synthetic": {"n": 12, "scaled": 0.5}}, 1, tiny_captchas)
    assert not np.array_equal(other["x_train"][-12:], x)  # another run seed, other captchas
    bad = get_config("captcha-xsrc-to-hand-undo-synth")
    bad["data"]["synthetic"] = {"n": 0}
    with pytest.raises(ConfigError, match="synthetic"):
        validate(bad)
