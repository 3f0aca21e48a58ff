"""Closed choices accept the words people write: ids, the labels kitamono prints, short forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitamono.errors import DataError, InputError
from kitamono.i18n import catalogue
from kitamono.reference import CHOICES, load_reference


@pytest.fixture(scope="module")
def ref():
    return load_reference()


@pytest.mark.parametrize(
    ("kind", "text", "meant"),
    [
        ("channel", "電話", "phone"),
        ("channel", "ＴＥＬ", "phone"),
        ("channel", "来店", "visit"),
        ("channel", "訪問", "visit"),
        ("channel", "e-mail", "email"),
        ("channel", "HP", "web"),
        ("channel", "セミナー", "event"),
        ("channel", "phone", "phone"),
        ("field", "食品", "food"),
        ("field", "食料品製造関連", "food"),
        ("field", "もの", "monozukuri"),
        ("field", "IT", "it"),
        ("competence", "融資", "finance"),
        ("competence", "金融", "finance"),
        ("competence", "販路", "market"),
        ("competence", "技術", "technical"),
        ("status", "支援中", "supporting"),
        ("event", "支援開始", "started"),
        ("kind", "大学", "academia"),
    ],
)
def test_a_word_people_write_is_its_choice(ref, kind, text, meant):
    assert ref.choice(kind, text) == meant


@pytest.mark.parametrize("kind", sorted(CHOICES))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_label_kitamono_prints_reads_back(ref, kind, lang):
    for ident in CHOICES[kind]:
        printed = catalogue(lang)[f"{kind}.{ident}"]
        assert ref.choice(kind, printed) == ident


def test_an_unknown_word_names_the_choices_in_japanese(ref):
    with pytest.raises(InputError) as caught:
        ref.choice("channel", "伝書鳩")
    message = str(caught.value)
    assert "伝書鳩" in message and "受付の経路" in message
    assert "来訪、電話、メール" in message


def test_a_repository_adds_its_own_words(tmp_path: Path):
    (tmp_path / "words.yaml").write_text("channel:\n  phone: [でんわ相談]\n", encoding="utf-8")
    assert load_reference(tmp_path).choice("channel", "でんわ相談") == "phone"


def test_one_spelling_for_two_values_is_refused(tmp_path: Path):
    (tmp_path / "words.yaml").write_text("channel:\n  email: [電話]\n", encoding="utf-8")
    with pytest.raises(DataError, match="電話"):
        load_reference(tmp_path)
