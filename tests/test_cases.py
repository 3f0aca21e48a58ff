"""The life of a case through the real CLI, and every bad input refused without changing a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import snapshot


def case_file(repo: Path, case_id: str) -> Path:
    fy = case_id.split("-")[1]
    return repo / "cases" / fy / f"{case_id}.yaml"


def status_of(run, case_id: str) -> str:
    return json.loads(run("case", "show", case_id, "--format", "json").stdout)["status"]


def test_the_whole_life_of_a_case(repo, run, new_case):
    case_id = new_case()
    assert case_id == "hro-2019-0001"
    assert status_of(run, case_id) == "received"

    steps = [
        (["refer", case_id, "--to", "北洋銀行", "--date", "R1.5.20", "--note", "資金面の相談"], "referred"),
        (["start", case_id, "--lead", "hokuyo", "--with", "道総研,tokachi", "--date", "令和元年6月3日",
          "--by", "hokuyo"], "supporting"),
        (["support", case_id, "--date", "2019-07-10", "--by", "hro", "--note", "殺菌条件の試験"], "supporting"),
        (["team", case_id, "--members", "hro,hokuyo,hokudai", "--date", "2019-08-01"], "supporting"),
        (["follow-up", case_id, "--date", "2020-05-12", "--by", "hokuyo"], "following_up"),
        (["close", case_id, "--outcome", "新商品を発売", "--date", "2021-03-01"], "closed"),
        (["reopen", case_id, "--date", "2021-06-01", "--note", "増産の相談"], "following_up"),
    ]
    for args, expected in steps:
        result = run("case", *args)
        assert result.exit_code == 0, result.stderr
        assert status_of(run, case_id) == expected

    data = yaml.safe_load(case_file(repo, case_id).read_text(encoding="utf-8"))
    assert [e["type"] for e in data["events"]] == [
        "received", "referred", "started", "supported", "team_formed", "followed_up", "closed", "reopened"
    ]
    started = data["events"][2]
    assert started == {"type": "started", "date": __import__("datetime").date(2019, 6, 3), "by": "hokuyo",
                       "lead": "hokuyo", "supporting": ["hro", "tokachi"]}
    assert data["events"][1]["by"] == "hro"  # the clone's institution is the default "by"

    history = run("case", "history", case_id, "--format", "plain").stdout
    assert "紹介先: 北洋銀行" in history and "結果: 新商品を発売" in history
    shown = run("case", "show", case_id, "--format", "plain").stdout
    assert "フォローアップ中" in shown and "北洋銀行" in shown


def test_received_on_accepts_wareki_and_full_width(repo, run, new_case):
    case_id = new_case(received_on="令和元年５月１４日")
    data = yaml.safe_load(case_file(repo, case_id).read_text(encoding="utf-8"))
    assert str(data["received_on"]) == "2019-05-14"
    assert new_case(received_on="H31.4.1") == "hro-2019-0002"


def test_field_is_suggested_from_the_words_and_plan_mismatch_warned(repo, run):
    result = run(
        "case", "new", "--no-input", "--company", "有限会社芦別精機", "--municipality", "芦別市",
        "--title", "乳製品の新商品開発", "--summary", "チーズとヨーグルトの加工食品を作りたい",
        "--received-by", "hro", "--channel", "phone", "--received-on", "2020-04-10",
    )
    assert result.exit_code == 0, result.stderr
    case = json.loads(run("case", "show", result.stdout.strip(), "--format", "json").stdout)
    assert case["field"] == "food"
    assert "食料品製造関連" in result.stderr and "芦別市" in result.stderr  # 芦別's plan is ものづくり only
    assert "基本計画" in result.stderr


def test_new_prints_the_id_and_json_gives_the_whole_case(repo, run, new_case):
    result = run(
        "case", "new", "--no-input", "--company", "株式会社ほくと水産", "--municipality", "函館市",
        "--title", "ホタテ加工品の販路", "--received-by", "hakodate", "--channel", "event",
        "--received-on", "2021-10-01", "--contact-name", "佐藤花子", "--contact-phone", "0138-00-0000",
        "--format", "json",
    )
    assert result.exit_code == 0, result.stderr
    case = json.loads(result.stdout)
    assert case["id"] == "hro-2021-0001"
    assert case["company"] == {"name": "株式会社ほくと水産", "municipality": "函館市"}
    assert case["contact"] == {"person": "佐藤花子", "phone": "0138-00-0000"}
    assert case["events"] == [{"type": "received", "date": "2021-10-01", "by": "hakodate"}]


def test_list_filters_and_sorting(repo, run, new_case):
    a = new_case(received_on="2020-06-01", title="チーズの殺菌")
    b = new_case(received_on="2019-05-01", municipality="旭川市", company="株式会社旭川家具", title="家具の塗装",
                 summary="木製家具の塗装の品質", field="monozukuri", received_by="asahikawa_craft")
    c = new_case(received_on="2020-04-01", municipality="芦別市", company="芦別精工", title="精密部品",
                 summary="機械部品の加工", field="monozukuri")
    run("case", "start", c, "--lead", "hro", "--date", "2020-05-01")

    def ids(*args: str) -> list[str]:
        result = run("case", "list", "--format", "json", *args)
        assert result.exit_code == 0, result.stderr
        return [item["id"] for item in json.loads(result.stdout)]

    assert ids() == [b, c, a]  # by date received
    assert ids("--fy", "R2") == [c, a]
    assert ids("--fy", "令和元年度") == [b]
    assert ids("--field", "monozukuri") == [b, c]
    assert ids("--field", "食料品製造関連") == [a]
    assert ids("--status", "支援中") == [c]
    assert ids("--status", "received") == [b, a]
    assert ids("--municipality", "旭川市") == [b]
    assert ids("--institution", "旭川市工芸センター") == [b]
    assert ids("--plan", "asahikawa") == [b]
    assert ids("--plan", "obihiro") == [a]
    assert ids("--text", "塗装") == [b]
    listing = run("case", "list", "--format", "plain").stdout
    assert "3件" in listing
    assert run("case", "list", "--count").stdout == "3\n"
    assert run("case", "list", "--count", "--field", "monozukuri").stdout == "2\n"


def test_contacts_only_when_asked(repo, run, new_case):
    case_id = new_case(contact_name="山田太郎", contact_phone="0155-12-3456", contact_email="yamada@example.jp")
    for args in (["case", "list"], ["case", "show", case_id], ["case", "history", case_id]):
        for fmt in ("plain", "json", "csv", "markdown"):
            out = run(*args, "--format", fmt).stdout
            assert "山田" not in out and "0155-12-3456" not in out and "yamada@" not in out, (args, fmt)
    shown = run("case", "show", case_id, "--with-contacts", "--format", "plain").stdout
    assert "山田太郎" in shown and "0155-12-3456" in shown
    listed = json.loads(run("case", "list", "--with-contacts", "--format", "json").stdout)
    assert listed[0]["contact"] == {"person": "山田太郎", "phone": "0155-12-3456", "email": "yamada@example.jp"}


# --- bad input: one line, exit 1, nothing changed ---------------------------------------------------

NEW = ["case", "new", "--no-input", "--company", "株式会社テスト", "--title", "相談", "--channel", "phone",
       "--received-by", "hro"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([*NEW, "--municipality", "帯広", "--received-on", "2019-05-14"], ["帯広", "帯広市"]),
        ([*NEW, "--municipality", "帯広市", "--received-on", "2019-05-14", "--received-by", "札幌銀行"], ["札幌銀行"]),
        ([*NEW, "--municipality", "帯広市", "--received-on", "2027-01-05"], ["2027-01-05", "未来"]),
        ([*NEW, "--municipality", "帯広市", "--received-on", "令和元年4月30日"], ["令和元年4月30日"]),
        ([*NEW, "--municipality", "帯広市", "--received-on", "2019-02-30"], ["2019-02-30"]),
        (
            ["case", "new", "--no-input", "--municipality", "帯広市", "--title", "相談", "--channel", "phone"],
            ["--company"],
        ),
    ],
)
def test_bad_new_case_changes_nothing(repo, run, args, expected):
    before = snapshot(repo)
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("エラー: ")
    for text in expected:
        assert text in result.stderr
    assert result.stdout == ""
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        ([], ["refer", "{id}", "--to", "hro", "--by", "hro"], "自身"),
        ([], ["refer", "{id}", "--to", "どこか銀行"], "どこか銀行"),
        ([], ["support", "{id}", "--date", "2019-06-01"], "支援開始"),
        ([], ["follow-up", "{id}", "--date", "2019-06-01"], "支援開始"),
        ([], ["support", "{id}", "--date", "2019-05-13"], "受付日"),
        ([], ["support", "{id}", "--date", "2026-12-01"], "未来"),
        (
            [["start", "{id}", "--lead", "hro", "--date", "2019-06-01"]],
            ["start", "{id}", "--lead", "noastec"],
            "すでに",
        ),
        ([], ["team", "{id}", "--members", "hro"], "2機関"),
        ([], ["reopen", "{id}"], "再開"),
        ([["close", "{id}", "--outcome", "解決", "--date", "2019-06-01"]], ["support", "{id}"], "終了"),
        ([], ["support", "hro-2019-0099"], "hro-2019-0099"),
        ([], ["refer", "{id}", "--to", "noastec", "--date", "令和元年4月30日"], "令和元年4月30日"),
    ],
)
def test_bad_event_changes_nothing(repo, run, new_case, setup, args, expected):
    case_id = new_case()
    for step in setup:
        assert run("case", *[a.format(id=case_id) for a in step]).exit_code == 0
    before = snapshot(repo)
    result = run("case", *[a.format(id=case_id) for a in args])
    assert result.exit_code == 1, result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert snapshot(repo) == before


def test_missing_option_is_a_usage_error(repo, run, new_case):
    case_id = new_case()
    result = run("case", "refer", case_id)
    assert result.exit_code == 2


def test_outside_any_repository(tmp_path, run, monkeypatch, env):
    monkeypatch.chdir(tmp_path)
    result = run("case", "list")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "kitamono init" in result.stderr


def test_an_event_recorded_late_keeps_the_file_in_date_order(repo, run, new_case):
    case_id = new_case()
    run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01")
    run("case", "support", case_id, "--date", "2019-09-01")
    assert run("case", "support", case_id, "--date", "2019-07-01").exit_code == 0
    events = json.loads(run("case", "history", case_id, "--format", "json").stdout)
    assert [e["date"] for e in events] == ["2019-05-14", "2019-06-01", "2019-07-01", "2019-09-01"]


# --- init and the clone's institution ---------------------------------------------------------------


def test_init_makes_a_repository_with_git(tmp_path, run, env):
    result = run("init", str(tmp_path / "new"), "--institution", "北洋銀行")
    assert result.exit_code == 0, result.stderr
    root = tmp_path / "new"
    assert (root / "kitamono.yaml").is_file() and (root / "cases").is_dir()
    assert (root / ".git").is_dir()
    assert ".kitamono/" in (root / ".gitignore").read_text()
    assert yaml.safe_load((root / ".kitamono" / "local.yaml").read_text()) == {"institution": "hokuyo"}


def test_init_institution_in_an_existing_repository_touches_no_shared_file(repo, run):
    shared = {k: v for k, v in snapshot(repo).items() if not k.startswith(".kitamono")}
    result = run("init", str(repo), "--institution", "dogin")
    assert result.exit_code == 0
    assert {k: v for k, v in snapshot(repo).items() if not k.startswith(".kitamono")} == shared
    assert yaml.safe_load((repo / ".kitamono" / "local.yaml").read_text()) == {"institution": "dogin"}
    assert run("init", str(repo), "--institution", "どこか").exit_code == 1


def test_ids_are_per_clone_institution_and_fiscal_year(repo, run, new_case):
    assert new_case(received_on="2019-05-14") == "hro-2019-0001"
    assert new_case(received_on="2020-03-31") == "hro-2019-0002"
    assert new_case(received_on="2020-04-01") == "hro-2020-0001"
    run("init", str(repo), "--institution", "hokuyo")
    assert new_case(received_on="2019-06-01") == "hokuyo-2019-0001"


def test_a_deleted_case_id_is_not_reused(repo, run, new_case):
    first = new_case()
    second = new_case()
    case_file(repo, second).unlink()
    assert new_case() == "hro-2019-0003"
    assert first == "hro-2019-0001"


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("やきとりのたれ", "室蘭やきとりのたれを製造販売しています。道外に販路を広げたい", "food"),
        ("塩辛の日持ち", "函館でイカの塩辛を製造しています", "food"),
        ("部品の試作", "金属部品を製造しています。メカニカルな設計のリソースが足りない", "monozukuri"),
        ("在庫管理", "ＩｏＴセンサで倉庫の在庫を見える化したい", "it"),
        ("後継者の相談", "事業を誰に引き継ぐか悩んでいる", "other"),
    ],
)
def test_the_field_is_suggested_from_what_the_company_wrote(repo, run, new_case, title, summary, expected):
    case_id = new_case(title=title, summary=summary)
    assert json.loads(run("case", "show", case_id, "--format", "json").stdout)["field"] == expected


def test_a_refused_event_is_explained_in_words_staff_use(repo, run, new_case):
    case_id = new_case()
    result = run("case", "follow-up", case_id, "--date", "2019-06-01")
    assert result.stderr == "エラー: この記録: 支援開始 (start) より前に「フォローアップ」は記録できません\n"


@pytest.mark.parametrize(
    ("title", "field", "fits"),
    [
        ("木製品の強度試験", "ものづくり関連", True),  # 紋別's strategy line 「…林業・木材・木製品製造分野」 names it
        ("金属部品の加工精度の改善", "ものづくり関連", False),  # no line of 紋別's plan names metal parts
        ("ホタテの加工品開発", "食料品製造関連", True),  # the food line, by its field
    ],
)
def test_plan_fit_reads_the_strategy_lines_words_as_well_as_their_fields(repo, run, title, field, fits):
    result = run("case", "new", "--no-input", "--company", "株式会社オホーツク工房", "--municipality", "紋別市",
                 "--title", title, "--received-on", "2026-11-02", "--channel", "電話", "--field", field)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    warned = "活用戦略に含まれていません" in result.stderr
    assert warned is not fits
    shown = run("case", "show", result.stdout.strip(), "--format", "plain").stdout
    plan_line = next(line for line in shown.splitlines() if line.startswith("基本計画"))
    assert plan_line.split()[1:] == (["紋別市"] if fits else ["紋別市(分野が計画外)"])


def test_a_team_is_recorded_only_on_a_case_whose_lead_has_started_support(repo, run, new_case):
    """A team is an escalation (3(2)②エ), as ``route --apply`` records it: after a start naming the
    lead, never one that makes a case 支援中 with no 主担当; by hand, on a page or in a file."""
    case_id = new_case()
    assert run("case", "refer", case_id, "--to", "hokuyo", "--date", "2019-05-20").exit_code == 0

    def refused(*args: str) -> str:
        before = snapshot(repo)
        result = run("case", *args)
        assert result.exit_code == 1, result.stdout
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "主担当" in result.stderr and "支援開始" in result.stderr
        assert snapshot(repo) == before
        return result.stderr

    refused("team", case_id, "--members", "hro,hokuyo,hokudai", "--date", "2019-06-01")
    assert status_of(run, case_id) == "referred"
    assert run("case", "start", case_id, "--lead", "hokuyo", "--date", "2019-06-10", "--by", "hokuyo").exit_code == 0
    refused("team", case_id, "--members", "hro,hokuyo,hokudai", "--date", "2019-06-05")  # before the start
    assert run("case", "team", case_id, "--members", "hro,hokuyo,hokudai", "--date", "2019-07-01").exit_code == 0
    shown = json.loads(run("case", "show", case_id, "--format", "json").stdout)
    assert shown["status"] == "supporting" and shown["lead"] == "hokuyo"
    refused("void", case_id, "3", "--reason", "誤って記録")  # the start, with the team after it
    refused("amend", case_id, "3", "--date", "2019-07-02", "--reason", "日付の誤り")  # the start after the team

    path = case_file(repo, case_id)  # a file written by hand is reported by check
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["events"] = [e for e in data["events"] if e["type"] != "started"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    checked = run("check")
    assert checked.exit_code == 1
    said = checked.stdout + checked.stderr
    assert "events[2]: 主担当 (lead) が決まっていない案件にはチーム結成を記録できません" in said
