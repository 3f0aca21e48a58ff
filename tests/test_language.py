"""kitamono speaks one language at a time: Japanese by default, English with ``KITAMONO_LANG=en``.

The framework's own words (help headings, value names, usage errors) are in the user's language
like the rest; every closed choice reads back any label kitamono prints for it; and a walk over
every command's ``--help`` and a sample of every report fails on a word of the other language.
Japanese that stays in English output is what has no English name: the names of institutions,
municipalities, subprefectures, plans and companies, what users wrote in their cases, and the
plan's own terms given beside their English gloss (基本計画, 振興局 …), listed below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kitamono.cli import app
from kitamono.i18n import catalogue
from kitamono.models import SUBPREFECTURES
from kitamono.reference import CHOICES, load_reference

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")

#: Walks every command's help in one process (help texts are read when the commands are built).
HELP_WALK = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from kitamono.cli import app

root = get_command(app)
helps = {}
def walk(command, path):
    result = CliRunner().invoke(app, [*path, "--help"], catch_exceptions=False)
    helps[" ".join(path) or "kitamono"] = result.stdout
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            walk(sub, [*path, name])
walk(root, [])
sys.stdout.write(json.dumps(helps))
"""


def _helps(lang: str) -> dict[str, str]:
    env = {**os.environ, "KITAMONO_LANG": lang, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", HELP_WALK], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


#: The plan's terms that English text gives beside their gloss, and the 和暦 and date forms
#: users may type (shown as examples of what is accepted).
KEPT_TERMS = (
    "北のものづくり連携支援計画", "北のものづくりネットワーク", "地域経済牽引事業計画", "地域経済牽引事業",
    "産学官金チーム", "産学官金",
    "基本計画", "別紙", "振興局", "和暦", "年度", "センター", "全道", "令和元年5月14日", "令和元年度", "平成31年度",
    "2019年5月14日", "2019年度", "第3四半期", "令和", "昭和", "平成", "受付日", "受付機関", "受付経路", "会社名",
    "市町村", "件名", "相談記録簿",
    # the plan's clause letters, cited as the plan numbers them (3(2)②エ)
    "②ア", "②イ", "②ウ", "②エ",
)


def _proper_nouns() -> list[str]:
    ref = load_reference()
    names = {*ref.municipalities, *(p.name for p in ref.plans.values()), *SUBPREFECTURES}
    names |= {s.text for p in ref.plans.values() for s in p.strategies}  # quoted from each plan
    for inst in ref.institutions.values():
        names |= {inst.name, inst.short_name, inst.city or ""}
    for field in ref.fields.values():
        names |= set(field.keywords)  # the words kitamono looks for in what people write
    for path in (ROOT / "cases").rglob("*.yaml"):  # what users wrote: companies, titles, notes
        names |= set(re.findall(r"[^\s:,'\"\[\]{}()（）]*[\u3000-\u9fff\uff00-\uffef]+[^\s,'\"\[\]{}]*",
                                path.read_text(encoding="utf-8")))
    return sorted((n for n in names | set(KEPT_TERMS) if n), key=len, reverse=True)


def _leaks(text: str, nouns: list[str]) -> list[str]:
    """The Japanese left once the names are taken out (a help line may wrap inside a word)."""
    text = re.sub(r"\n {10,}", "", text)  # a help text's wrapped lines, one again
    for noun in nouns:
        text = text.replace(noun, "")
    return [line for line in text.splitlines() if CJK.search(line)]


#: English words of the framework that must not show in Japanese help.
FRAMEWORK_WORDS = re.compile(r"Usage:|Options:|Arguments:|Commands:|\[required\]|<str>|<list|<int>|Show this message|"
                             r"\bTEXT\b|\bDATE\b|\bINST\b|\bPATH\b")


@pytest.mark.heavy
def test_every_help_is_in_japanese_by_default():
    helps = _helps("ja")
    assert len(helps) > 25  # every command and group
    for path, text in helps.items():
        assert text.startswith("使い方: "), path
        assert "オプション:" in text, path
        assert not FRAMEWORK_WORDS.search(text), (path, FRAMEWORK_WORDS.search(text))


@pytest.mark.heavy
def test_every_help_is_in_english_with_kitamono_lang_en():
    helps = _helps("en")
    nouns = _proper_nouns()
    for path, text in helps.items():
        assert text.startswith("Usage: "), path
        assert _leaks(text, nouns) == [], path


@pytest.fixture(scope="module")
def demo(demo_copy: Path) -> Path:
    return demo_copy


SAMPLE = [
    ("fields",), ("institutions",), ("plans",), ("municipalities", "--subprefecture", "十勝"),
    ("case", "list", "--fy", "2024"), ("case", "show", "hokuyo-2024-0001"), ("case", "history", "hro-2019-0001"),
    ("targets",), ("followups",), ("report", "quarterly", "--fy", "2024", "-q", "1"),
    ("report", "quarterly", "--fy", "2024", "-q", "1", "--era"), ("report", "annual", "--fy", "2024"),
]  # fmt: skip


@pytest.mark.parametrize("command", SAMPLE, ids=" ".join)
def test_reports_in_english_have_no_japanese_but_names(command, demo, env, runner, nouns):
    result = runner.invoke(app, ["--repo", str(demo), *command, "--format", "plain"], env={"KITAMONO_LANG": "en"},
                           catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert _leaks(result.stdout, nouns) == []


@pytest.fixture(scope="module")
def nouns() -> list[str]:
    return _proper_nouns()


# --- usage errors --------------------------------------------------------------------------------


def test_a_mistyped_command_is_one_japanese_line_with_the_suggestion(repo, run):
    result = run("case", "lsit")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert re.fullmatch(r"エラー: コマンド「lsit」はありません。「list」のことですか\?\(使い方は \S+ case -h\)\n",
                        result.stderr), result.stderr  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("case", "list", "--statu", "支援中"), "エラー: オプション「--statu」はありません。「--status」のことですか?"),
        (("case", "list", "--fy"), "エラー: オプション --fy には値を続けて書いてください。"),
        (("case", "show"), "エラー: 案件ID を指定してください。"),
        (("case", "list", "--status", "休眠"), "エラー: --status: 「休眠」は状況の選択肢にありません。"),
        (("institutions", "--kind", "bank"), "エラー: --kind: 「bank」は機関の種類の選択肢にありません。"),
        (("plans", "--field", "その他"), "エラー: --field: 「その他」は分野の選択肢にありません。"),
        (
            ("case", "new", "--no-input", "--channel", "伝書鳩"),
            "エラー: --channel: 「伝書鳩」は受付の経路の選択肢にありません。",
        ),
        (("route", "--text", "試作", "--municipality", "帯広市", "--needs", "技術,魔法"), "エラー: --needs: 「魔法」"),
        (("sync", "-f", "xlsx"), "エラー: --format: 出力形式「xlsx」は使えません。"),
    ],
)
def test_a_usage_error_is_one_japanese_line_exit_2_and_changes_nothing(repo, run, args, expected):
    from tests.conftest import snapshot

    before = snapshot(repo)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1 and "-h)" in result.stderr
    assert snapshot(repo) == before


def test_a_usage_error_is_in_english_with_kitamono_lang_en(repo, runner):
    result = runner.invoke(app, ["case", "lsit"], env={"KITAMONO_LANG": "en"})
    assert result.exit_code == 2
    expected = r"Error: There is no command 'lsit'\. Did you mean 'list'\? \(see \S+ case -h\)\n"
    assert re.fullmatch(expected, result.stderr), result.stderr


# --- every label kitamono prints reads back ------------------------------------------------------

#: A command that takes each closed choice, with the word in the place of ``{}``.
TAKES = {
    "status": ("case", "list", "--status", "{}", "--count"),
    "kind": ("institutions", "--kind", "{}", "--format", "csv"),
    "field": ("route", "--text", "試作", "--municipality", "帯広市", "--field", "{}", "--format", "json"),
    "competence": ("route", "--text", "試作", "--municipality", "帯広市", "--needs", "{}", "--format", "json"),
    "channel": ("case", "new", "--no-input", "--company", "株式会社テスト", "--municipality", "帯広市",
                "--title", "相談", "--channel", "{}", "--format", "json"),
}  # fmt: skip


def _printed_labels() -> list[tuple[str, str, str, str]]:
    """(kind, id, language, label) for every value kitamono prints for a choice that a command takes."""
    from kitamono.i18n import LANGUAGES

    found = []
    ref = load_reference()
    for kind in TAKES:
        for ident in CHOICES[kind]:
            for lang in LANGUAGES:
                found.append((kind, ident, lang, catalogue(lang)[f"{kind}.{ident}"]))
                if kind == "field" and ident in ref.fields:  # the field name reports print
                    spec = ref.fields[ident]
                    found.append((kind, ident, lang, spec.name_en if lang == "en" and spec.name_en else spec.name))
    return sorted(set(found))


@pytest.mark.parametrize(("kind", "ident", "lang", "printed"), _printed_labels())
def test_every_label_a_command_prints_is_accepted_back(repo, run, kind, ident, lang, printed):
    args = [printed if a == "{}" else a for a in TAKES[kind]]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    if kind == "channel":
        assert json.loads(result.stdout)["channel"] == ident
    elif kind == "field":
        assert json.loads(result.stdout)["field"] == ident
    elif kind == "competence":
        assert ident in [n["need"] for n in json.loads(result.stdout)["needs"]]
    elif kind == "kind":
        rows = result.stdout.splitlines()[1:]
        assert rows and all(catalogue("ja")[f"kind.{ident}"] in row for row in rows)


def test_the_interactive_question_lists_the_labels_and_takes_them(repo, runner, monkeypatch):
    from kitamono.cli import case

    monkeypatch.setattr(case, "_interactive", lambda no_input: True)
    answers = "株式会社テスト\n帯広市\n相談\n来店\n\n"
    result = runner.invoke(app, ["case", "new", "--format", "json"], input=answers, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "受付の経路 [来訪/電話/メール/ウェブ/紹介/イベント/その他]" in result.stderr
    assert json.loads(result.stdout[result.stdout.index("{"):])["channel"] == "visit", result.stdout


def test_the_plan_fields_named_for_help_are_the_models():
    from kitamono.cli.reference import PLAN_FIELDS
    from kitamono.models import FIELD_IDS

    assert PLAN_FIELDS == FIELD_IDS
