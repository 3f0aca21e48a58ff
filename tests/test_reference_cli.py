"""The reference data commands as a user runs them, and bad data in a repository's own folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import snapshot

FORMATS = ["table", "plain", "markdown", "csv", "json", "html"]


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env) -> Path:
    """A folder that is not a case repository (reference commands must work there)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_plans_json_counts_the_plans_fields(outside, run):
    result = run("plans", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["field_counts"] == {"food": 19, "monozukuri": 16, "it": 9}
    assert (data["agreed_total"], data["municipalities_total"]) == (28, 32)
    assert data["as_of"] == "2017-12-22"
    assert len(data["plans"]) == 24
    assert sum(len(p["municipalities"]) for p in data["plans"]) == 30
    sapporo = data["plans"][0]
    assert set(sapporo) >= {"id", "name", "municipalities", "fields", "strategies"}
    assert sapporo["fields"] == ["food", "monozukuri", "it"]
    assert all(set(s) == {"text", "fields"} for s in sapporo["strategies"])


def test_plans_filters(outside, run):
    it_plans = json.loads(run("plans", "--field", "it", "--format", "json").stdout)["plans"]
    assert len(it_plans) == 9 and all("it" in p["fields"] for p in it_plans)
    asahikawa = json.loads(run("plans", "--municipality", "旭川市", "--format", "json").stdout)["plans"]
    assert len(asahikawa) == 2


def test_plans_table_says_the_totals(outside, run):
    result = run("plans", "--format", "plain")
    assert "28 計画(32 市町村)" in result.stdout
    assert "大袖振大豆" in result.stdout


@pytest.mark.parametrize("command", ["fields", "institutions", "plans", "municipalities"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_reference_command_renders_every_format(outside, run, command, fmt):
    result = run(command, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""
    if fmt == "json":
        json.loads(result.stdout)
    if fmt == "csv":
        assert result.stdout.startswith("\ufeff")


def test_institutions_json_has_the_stable_keys(outside, run):
    data = json.loads(run("institutions", "--format", "json").stdout)
    keys = {"id", "name", "short_name", "kind", "city", "area", "competences", "network_member"}
    assert all(keys <= set(item) for item in data)
    support = json.loads(run("institutions", "--kind", "support", "--format", "json").stdout)
    assert [i["short_name"] for i in support] == [
        "道総研", "ノーステック財団", "中小企業総合支援センター", "北洋銀行", "北海道銀行"
    ]  # fmt: skip
    assert sum(1 for i in data if i["network_member"]) == 15


def test_unknown_kind_is_one_line(outside, run):
    result = run("institutions", "--kind", "bank")
    assert result.exit_code == 2  # a usage error: the choices are in --help
    assert result.stderr.count("\n") == 1 and "bank" in result.stderr


def test_municipalities_by_subprefecture(outside, run):
    tokachi = json.loads(run("municipalities", "--subprefecture", "十勝総合振興局", "--format", "json").stdout)
    assert len(tokachi) == 19
    assert {"code": "012076", "name": "帯広市", "kind": "市", "subprefecture": "十勝", "plans": ["obihiro"]} in tokachi
    result = run("municipalities", "--subprefecture", "道東")
    assert result.exit_code == 1 and "道東" in result.stderr


def test_english_headers_with_kitamono_lang(outside, run, monkeypatch):
    monkeypatch.setenv("KITAMONO_LANG", "en")
    result = run("fields", "--format", "plain")
    assert result.stdout.splitlines()[0].split() == ["ID", "Field", "Description", "Plans", "Keywords"]
    monkeypatch.setenv("KITAMONO_LANG", "ja")
    assert run("fields", "--format", "plain").stdout.splitlines()[0].split() == [
        "ID", "分野", "説明", "計画数", "判定語"
    ]  # fmt: skip


# --- a repository's own data folder ---------------------------------------------------------------

LATER_PLAN = """\
plans:
- id: kushiro_town
  name: 釧路町
  municipalities: [釧路町]
  agreed_on: 2018-06-29
  strategies:
  - {text: 水産物を活用した食料品製造関連分野, fields: [food]}
"""


def _with_data(repo: Path, filename: str, text: str) -> None:
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    (repo / "data").mkdir(exist_ok=True)
    (repo / "data" / filename).write_text(text, encoding="utf-8")


def test_a_repository_adds_a_later_plan(repo, run):
    _with_data(repo, "basic_plans.yaml", LATER_PLAN)
    data = json.loads(run("plans", "--format", "json").stdout)
    assert len(data["plans"]) == 25
    assert data["field_counts"]["food"] == 20
    assert run("plans", "--municipality", "釧路町", "--format", "json").exit_code == 0


def test_a_repository_overrides_a_shipped_record_only_when_it_says_so(repo, run):
    body = """\
institutions:
- id: tokachi
  name: 公益財団法人とかち財団
  short_name: とかち財団
  kind: network
  city: 帯広市
  area: [十勝]
  competences: [food_processing, testing]
  network_member: true
"""
    _with_data(repo, "institutions.yaml", body)
    result = run("institutions", "--format", "json")
    assert result.exit_code == 1
    assert "data/institutions.yaml" in result.stderr and "tokachi" in result.stderr
    _with_data(repo, "institutions.yaml", body + "  override: true\n")
    tokachi = next(i for i in json.loads(run("institutions", "--format", "json").stdout) if i["id"] == "tokachi")
    assert tokachi["competences"] == ["food_processing", "testing"]


BAD_DATA = [
    ("basic_plans.yaml", LATER_PLAN.replace("agreed_on", "agreed"), "agreed"),
    ("basic_plans.yaml", LATER_PLAN.replace("agreed_on: 2018-06-29", "agreed_on: 昨年"), "agreed_on"),
    ("basic_plans.yaml", LATER_PLAN.replace("[釧路町]", "[釧路村]"), "釧路村"),
    ("basic_plans.yaml", LATER_PLAN + LATER_PLAN.split("plans:\n")[1], "kushiro_town"),
    ("institutions.yaml",
     "institutions:\n- {id: x1, name: 試験, short_name: 試験, kind: bank, area: [十勝]}\n", "kind"),
    ("institutions.yaml",
     "institutions:\n- {id: x1, name: 試験, short_name: 試験, kind: network, area: [道東]}\n", "道東"),
    ("municipalities.yaml",
     "municipalities:\n- {code: '012070', name: 帯広市, kind: 市, subprefecture: 十勝}\n", "code"),
    ("fields.yaml", "fields:\n- {id: food, name: 食, description: x, keywords: [食], colour: red}\n", "colour"),
    ("needs.yaml", "needs:\n  magic: [魔法]\n", "magic"),
    ("targets.yaml", "follow_up_periods: 3\nperiods: []\ntotal: 0\n", "periods"),
]


@pytest.mark.parametrize(("filename", "text", "named"), BAD_DATA)
def test_bad_data_is_one_line_naming_file_and_field(repo, run, filename, text, named):
    _with_data(repo, filename, text)
    before = snapshot(repo)
    result = run("plans")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"data/{filename}" in lines[0]
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(repo) == before
    check = run("check")
    assert check.exit_code == 1 and f"data/{filename}" in check.stdout + check.stderr


@pytest.mark.parametrize(
    ("filename", "text", "said"),
    [
        ("municipalities.yaml", 'municipalities:\n- {code: "012077", name: 新帯広市, kind: 市, subprefecture: 十勝}\n',
         "municipalities[0](012077).code: 市町村コード 012077 の検査数字(6 桁目)が合いません"),
        ("municipalities.yaml", 'municipalities:\n- {code: "012076", name: 新帯広市, kind: 市, subprefecture: 東京}\n',
         "municipalities[0](012076).subprefecture: 振興局「東京」はありません"),
        ("institutions.yaml", "institutions:\n- {id: Tokachi, name: とかち財団, short_name: とかち, kind: network, "
         "city: 帯広市, area: [十勝]}\n",
         "institutions[0](Tokachi).id: ID は英小文字で始め、英小文字・数字・_ だけで書いてください"),
    ],
    ids=["check digit", "subprefecture", "id"],
)  # fmt: skip
def test_a_mistake_in_the_repositorys_reference_data_is_said_in_japanese(repo, run, filename, text, said):
    _with_data(repo, filename, text)
    result = run("fields")
    assert result.exit_code == 1
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
