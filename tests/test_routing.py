"""Routing through the real CLI: who handles an inquiry, as 3(2)② of the plan says, and why.

The table is the heart: inquiries written as companies write them, each with what the plan's
rules give by hand (see the comment on each row). The other tests cover recording a suggestion
(``--apply``), the "referred twice" team rule that needs a case's history, tuning by data, and
the errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import snapshot
from kitamono.reference import load_reference
from kitamono.routing import recognise_needs


@dataclass(frozen=True)
class Row:
    id: str
    received_by: str
    municipality: str
    text: str
    clause: str  # イa / イb / ウa / ウb (3(2)②)
    lead: str
    coordinator: str | None
    regional: list[str]
    external: list[str] = field(default_factory=list)
    team: bool = False
    supporting: list[str] = field(default_factory=list)
    academia: list[str] = field(default_factory=list)
    fits: bool | None = True  # None: the municipality has no basic plan
    options: dict[str, str] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # trigger words the reasons must quote


ROWS = [
    # --- handled where received (イa / ウa) ---
    # 殺菌・品質 (technical), 検査 (testing): all within 道総研's competences → the センター keeps it.
    # 十勝: とかち財団 serves it and covers technical/testing.
    Row("cheese_at_the_center", "hro", "帯広市",
        "ナチュラルチーズの殺菌工程の見直し\n新しい殺菌装置の導入にあたり、品質の検査方法を相談したいです。",
        "イa", "hro", None, ["tokachi"], words=["殺菌", "品質", "検査"]),
    # A furniture maker in 旭川: 旭川市工芸センター names 家具 and デザイン among its strengths.
    Row("furniture_in_asahikawa", "hro", "旭川市",
        "ダイニングチェアの新作の試作について\n旭川市で家具を製造しています。新しい椅子のデザインと強度の確認をお願いできないでしょうか。",
        "イa", "hro", None, ["asahikawa_craft", "asahikawa_itc"], words=["試作", "デザイン"]),
    # 設備資金・融資 (finance) is within 北洋銀行's competences → ウa. 石狩's 道央産業振興財団 does not match.
    Row("loan_kept_by_the_bank", "hokuyo", "札幌市",
        "工場増設の設備資金について\n食品工場の増設を計画しており、設備投資の融資を受けたいと考えています。",
        "ウa", "hokuyo", None, [], words=["設備資金", "融資"]),
    # 販路開拓 (market) and 経営計画 (management): 中小企業総合支援センター covers both → ウa.
    Row("market_kept_by_hsc", "hsc", "函館市",
        "道外への販路開拓\nイカの塩辛などの水産加工品を製造しています。首都圏の百貨店への販路開拓と、経営計画の立て方を相談したいです。",
        "ウa", "hsc", None, ["hakodate"], words=["販路開拓", "経営計画"]),
    # A network body (とかち財団) is treated like ウ: 成分分析 (testing) and 分析 are within its competences.
    Row("analysis_kept_by_tokachi", "tokachi", "音更町",
        "大豆加工品の成分分析\n大袖振大豆を使った新しい豆菓子の栄養成分を分析して、表示を作りたいです。",
        "ウa", "tokachi", None, [], words=["成分分析"]),
    # オホーツク財団 covers food processing (粉末化・乾燥) itself; 北見工業技術センター is ものづくり only.
    Row("powder_kept_by_okhotsk", "okhotsk", "北見市",
        "タマネギの粉末化\nタマネギを粉末化した調味料を作りたい。乾燥の方法を相談したい。",
        "ウa", "okhotsk", None, [], words=["粉末化", "乾燥"]),
    # --- reported to the センター (ウb) / arranged by it (イb) ---
    # 北海道銀行 does not cover technical/food processing → reported; the lead is 道総研.
    Row("bank_reports_processing", "dogin", "北見市",
        "タマネギを使った加工食品の試作\n北見産タマネギでドレッシングを作りたいが、賞味期限を延ばす製法が分からない。",
        "ウb", "hro", "hro", ["okhotsk"], words=["試作", "賞味期限"]),
    # 海外展開・輸出 (market) is not 道総研's → イb, lead 中小企業総合支援センター. 網走市 has no basic plan.
    Row("export_arranged_by_the_center", "hro", "網走市",
        "ホタテの干貝柱の海外展開\n海外の見本市に出展して輸出を始めたい。どこから手を付ければよいか教えてほしい。",
        "イb", "hsc", "hro", ["okhotsk"], fits=None, words=["海外展開", "輸出"]),
    # とかち財団 (network) cannot lend: reported to the センター; bank unknown → 北洋銀行 (3(1) order).
    Row("tokachi_reports_finance", "tokachi", "帯広市",
        "工場の運転資金\n乳製品工場の運転資金が不足しており、融資を相談したい。",
        "ウb", "hokuyo", "hro", ["tokachi"], words=["運転資金", "融資"]),
    # --- each support institution's role (1(3)) ---
    # 大学・共同研究・特許 (science) → ノーステック財団; 画像処理 (technical) → 道総研 supports.
    # Universities: 千歳科技大 and 情報大 (石狩, IT), then 北大.
    Row("science_to_noastec", "hro", "札幌市",
        "大学との共同研究と特許出願\n当社の画像処理ソフトについて、大学と共同研究を行い特許を取得したいと考えています。",
        "イb", "noastec", "hro", [], supporting=["hro"], academia=["cist", "hiu", "hokudai"],
        words=["共同研究", "特許"]),
    # 人材育成・技能継承 (human resources) → ノーステック財団; 溶接 (technical) → 道総研.
    Row("human_resources_to_noastec", "hsc", "苫小牧市",
        "若手技術者の育成\n自動車部品の溶接工程を担う若手の人材育成と技能継承に悩んでいます。",
        "ウb", "noastec", "hro", ["tomakomai_tc", "muroran_tc"], supporting=["hro"], words=["人材育成", "溶接"]),
    # The title ends on 事業化 (commercialisation) → ノーステック財団; research need → 情報大 (江別), 北大.
    Row("commercialisation_to_noastec", "hokuyo", "江別市",
        "研究成果の事業化\n大学で開発した米粉の新素材を製品化し、事業化まで進めたい。",
        "ウb", "noastec", "hro", ["doo"], supporting=["hro"], academia=["hiu", "hokudai"], words=["事業化", "製品化"]),
    # The title ends on 創業 (start-up) → 中小企業総合支援センター; AI (technical) → 道総研.
    Row("startup_to_hsc", "noastec", "千歳市",
        "ソフトウェア会社の創業\n来年、AIを使ったソフトウェアの会社を創業したいので、創業準備の進め方を相談したい。",
        "ウb", "hsc", "hro", [], supporting=["hro"], words=["創業", "AI"]),
    # 事業承継 (management): 北海道銀行 does not cover it → 中小企業総合支援センター.
    Row("succession_to_hsc", "dogin", "岩見沢市",
        "事業承継について\n社長が高齢になり、息子への事業承継を考えています。経営の引き継ぎ方を相談したい。",
        "ウb", "hsc", "hro", [], fits=False, words=["事業承継"]),
    # Title head 資金 (finance); the company banks with 北海道銀行 → it leads; 冷凍 → 道総研 supports.
    Row("finance_to_the_own_bank", "hro", "釧路市",
        "冷凍設備の更新資金\n水産加工の冷凍設備が老朽化したため、更新の資金を借り入れたい。",
        "イb", "dogin", "hro", ["kushiro_itc"], supporting=["hro"], options={"bank": "北海道銀行"},
        words=["資金", "借り入れ"]),
    # The same without a known bank: 北洋銀行, first of the two in 3(1).
    Row("finance_bank_unknown", "hro", "釧路市",
        "冷凍設備の更新資金\n水産加工の冷凍設備が老朽化したため、更新の資金を借り入れたい。",
        "イb", "hokuyo", "hro", ["kushiro_itc"], supporting=["hro"]),
    # 商談会・バイヤー (sales channel) → a bank's branch network; 道外 (market) → the receiver hsc supports.
    Row("sales_channel_to_a_bank", "hsc", "芽室町",
        "スイートコーンの商談会\n芽室町の農産物を使った食品を製造しています。道外のバイヤーとの商談会に出たい。取引先の紹介もお願いしたい。",
        "ウb", "hokuyo", "hro", ["tokachi"], supporting=["hsc"], words=["商談会", "バイヤー"]),
    # --- outside help (1(4)) ---
    # 機能性食品の臨床試験 is life science: lead 道総研 (industrial technology), 産総研 brought in.
    Row("life_science_clinical", "hro", "江別市",
        "機能性食品の臨床試験\nハスカップの機能性成分について、ヒトでの臨床試験を計画しています。",
        "イb", "hro", "hro", [], external=["aist"], words=["臨床試験"]),
    # ゲノム with 研究開発: 産総研 and JST; the title ends on 研究開発 → ノーステック財団 (received it, but not
    # the life science) → ウb, lead itself, 道総研 supports.
    Row("genome_research", "noastec", "札幌市",
        "ゲノム編集を使った品種の研究開発\nゲノム編集技術を使った酵母の研究開発を進めたい。",
        "ウb", "noastec", "hro", ["doo"], external=["aist", "jst"], supporting=["hro"],
        academia=["cist", "hiu", "hokudai"], fits=False, words=["ゲノム", "研究開発"]),
    # パワー半導体 is advanced electronics: 産総研. 千歳市's plan has food and IT, not ものづくり.
    Row("power_semiconductor", "hro", "千歳市",
        "パワー半導体の評価\n当社で開発中のパワー半導体モジュールの放熱性能を評価したい。",
        "イb", "hro", "hro", [], external=["aist"], fits=False, words=["パワー半導体"]),
    # 光デバイス + 研究開発 + 資金: three kinds of help → a team; the title ends on 資金 → the bank leads.
    Row("photonics_with_funding", "hokuyo", "室蘭市",
        "光デバイスの研究開発と資金\n光デバイスの研究開発を始めたく、研究資金の調達も相談したい。",
        "ウb", "hokuyo", "hro", ["doo"], external=["aist", "jst"], team=True, supporting=["hro", "noastec"],
        academia=["muroran_it", "hokudai"], fits=False, words=["光デバイス"]),
    # --- a team (エ) ---
    # 試作 (technology) + 販路開拓 (market) + 融資 (finance): three kinds → a 産学官金 team.
    Row("team_for_three_kinds", "hro", "帯広市",
        "新しいチーズの開発と販売\n新しいチーズの試作から、首都圏への販路開拓、工場の設備投資の融資まで一貫して相談したい。",
        "イb", "hro", "hro", ["tokachi"], team=True, supporting=["hsc", "hokuyo"], words=["試作", "販路開拓", "融資"]),
    # The same three kinds reaching a regional body, the title ending on 販路 (market): the
    # 中小企業総合支援センター leads; its role has no 金融 (1(3) gives that to the banks), so the
    # team's 金 is a bank, and 道総研 supports the 殺菌 side.
    Row("team_led_by_hsc_has_a_bank", "tokachi", "帯広市",
        "チーズの殺菌と販路\n殺菌装置の導入と道外への販路開拓、設備資金の融資を相談したい",
        "ウb", "hsc", "hro", ["tokachi"], team=True, supporting=["hro", "hokuyo"], words=["殺菌", "販路", "融資"]),
    # --- basic plans (1(1), 別紙) ---
    # ニセコ町 has no basic plan; 後志 has no regional network body.
    Row("town_without_a_plan", "hro", "ニセコ町",
        "地ビールの品質安定\nニセコ町で地ビールを醸造しています。発酵の管理と品質の安定について相談したい。",
        "イa", "hro", None, [], fits=None, words=["品質", "発酵"]),
    # An IT company in 帯広市, whose plan is food only; とかち財団 does not do IT.
    Row("it_outside_obihiro_plan", "hro", "帯広市",
        "農作業アプリの開発\n十勝の農家向けに、IoTセンサを使った農作業記録アプリを開発しています。システム開発の技術相談をしたい。",
        "イa", "hro", None, [], fits=False, words=["IoT", "システム開発"]),
    # Food in 室蘭市, whose plan is ものづくり only (field given by staff).
    Row("food_outside_muroran_plan", "hsc", "室蘭市",
        "室蘭やきとりのたれの販路\n室蘭やきとりのたれを製造販売しています。道外への販路を広げたい。",
        "ウa", "hsc", None, [], fits=False, options={"field": "food"}, words=["販路"]),
    # --- nothing recognisable ---
    Row("nothing_recognised_at_the_center", "hro", "旭川市",
        "ご相談\nお世話になっております。一度お話を伺いたく、ご連絡いたしました。",
        "イa", "hro", None, [], fits=False),
    Row("nothing_recognised_at_a_bank", "hokuyo", "小樽市",
        "お問い合わせ\n先日の説明会の件で、担当の方からご連絡をいただけますか。",
        "ウb", "hro", "hro", [], fits=None),
    # --- needs given by staff: the first given is the main need ---
    Row("needs_given", "hro", "札幌市", "相談内容は面談で伺います",
        "イb", "hokuyo", "hro", [], supporting=["hro"], fits=False, options={"needs": "finance,工業技術"}),
    # --- regional bodies across Hokkaido ---
    Row("squid_in_hakodate", "hro", "函館市",
        "イカの加工と衛生管理\nイカの一夜干しを製造しています。HACCPに沿った衛生管理と異物対策を相談したい。",
        "イa", "hro", None, ["hakodate"], words=["衛生管理", "HACCP"]),
    Row("cans_in_kushiro", "hro", "釧路市",
        "サンマの缶詰の殺菌条件\nサンマ缶詰のレトルト殺菌の条件を見直したい。",
        "イa", "hro", None, ["kushiro_itc"], words=["殺菌", "レトルト"]),
    Row("wood_in_kitami", "hro", "北見市",
        "木製品の塗装不良\n木製の玩具の塗装がはがれる不良が出ている。原因を調べてほしい。",
        "イa", "hro", None, ["kitami_itc"], words=["塗装"]),
    Row("dies_in_tomakomai", "hro", "苫小牧市",
        "自動車部品の金型\n自動車部品のプレス金型の摩耗が早い。表面処理で寿命を延ばしたい。",
        "イa", "hro", None, ["tomakomai_tc"], words=["金型", "表面処理"]),
    # 研究開発 → ノーステック財団; 室蘭工大 is in 胆振; 室蘭テクノセンター names 航空機 and 室蘭工業大学.
    Row("aircraft_in_muroran", "hro", "室蘭市",
        "航空機部品の研究開発\n航空機向けチタン部品の切削について、室蘭工業大学と研究開発を進めたい。",
        "イb", "noastec", "hro", ["muroran_tc", "doo"], supporting=["hro"], academia=["muroran_it", "hokudai"],
        words=["研究開発", "切削"]),
    # The title ends on 研究 → ノーステック財団; 北見工大 (IT) is in オホーツク; no network body does IT there.
    Row("cold_iot_in_kitami", "hro", "北見市",
        "寒冷地向けIoTの研究\n寒冷地の道路を監視するIoTセンサの研究を行いたい。",
        "イb", "noastec", "hro", [], supporting=["hro"], academia=["kitami_it", "hokudai"], words=["研究", "IoT"]),
]

CLAUSES = {"", "1(1)", "1(1)・別紙", "1(2)", "1(3)", "1(3)・1(4)", "1(4)",
           "3(2)②ア", "3(2)②イa", "3(2)②イb", "3(2)②ウa", "3(2)②ウb", "3(2)②エ"}  # fmt: skip


def route_text(run, row: Row):
    args = ["route", "--text", row.text, "--municipality", row.municipality, "--received-by", row.received_by]
    for key, value in row.options.items():
        args += [f"--{key}", value]
    return run(*args, "--format", "json")


def test_the_table_covers_every_clause():
    assert len(ROWS) >= 25
    assert len({r.id for r in ROWS}) == len(ROWS)
    assert {r.clause for r in ROWS} == {"イa", "イb", "ウa", "ウb"}
    assert {"hro", "noastec", "hsc", "hokuyo", "dogin"} <= {r.lead for r in ROWS}
    assert {"aist", "jst"} <= {e for r in ROWS for e in r.external}
    assert any(r.team for r in ROWS) and any(r.fits is None for r in ROWS) and any(r.fits is False for r in ROWS)
    assert any(r.received_by == "tokachi" and r.clause == "ウb" for r in ROWS)  # a network body reports


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_routing_table(run, env, row):
    result = route_text(run, row)
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["clause"] == row.clause
    assert got["lead"] == row.lead
    assert got["coordinator"] == row.coordinator
    assert got["regional"] == row.regional
    assert got["external"] == row.external
    assert bool(got["team"]) == row.team
    assert got["supporting"] == row.supporting
    assert got["academia"] == row.academia
    assert got["plan_fit"]["fits"] == bool(row.fits)
    assert (got["plan_fit"]["plan"] is None) == (row.fits is None)

    reasons = got["reasons"]
    assert any(r.startswith(f"3(2)②{row.clause}: ") for r in reasons)
    for word in row.words:
        assert any(f"「{word}」" in r for r in reasons), word
    if row.external:
        assert sum(r.startswith("1(4): ") for r in reasons) == len(row.external)
    if row.team:
        assert any(r.startswith("3(2)②エ: ") for r in reasons)
    if not got["needs"]:
        assert any(r.startswith("3(2)②ア: ") and "読み取れませんでした" in r for r in reasons)
    if row.fits is None:
        assert any("同意基本計画は登録されていません" in r for r in reasons)
    elif row.fits is False and got["field"] != "other":
        assert any("基本計画に合っていません" in r for r in reasons)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_every_reason_is_readable_and_traced_to_the_plan(run, env, row):
    """Each line cites a clause of the plan (or is a need read from the text) and uses names, not ids."""
    ref = load_reference()
    ids = set(ref.institutions) | set(ref.needs_vocabulary) | {"food", "monozukuri", "it", "other"}
    got = json.loads(route_text(run, row).stdout)
    for reason in got["reasons"]:
        clause, _, text = reason.partition(": ") if not reason.startswith("必要な支援") else ("", "", reason)
        assert clause in CLAUSES, reason
        assert not set(re.findall(r"[a-z_]{2,}", text)) & ids, reason


# --- recognising needs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def needs(text: str, ref, title: str = "") -> list[tuple[str, tuple[str, ...]]]:
    return [(m.need, m.matched) for m in recognise_needs(text, ref, title)]


def test_a_longer_word_wins_over_the_words_inside_it(ref):
    assert needs("成分分析をお願いしたい", ref) == [("testing", ("成分分析",))]
    assert needs("市場分析をしたい", ref) == [("market", ("市場分析",))]
    assert needs("競争的資金に応募したい", ref) == [("rnd", ("競争的資金",))]


def test_phrases_that_are_no_need_hide_their_words(ref):
    assert needs("菓子を製造販売しています", ref) == []
    assert needs("創業以来、大学生を採用しています", ref) == []


def test_full_width_letters_and_case_do_not_matter(ref):
    assert needs("ＩｏＴ機器", ref) == [("technical", ("IoT",))]
    assert needs("iotで見える化", ref) == [("technical", ("IoT",))]


def test_the_title_head_is_the_main_need(ref):
    text = "冷凍設備の更新資金\n冷凍設備が古くなった"
    assert [n for n, _ in needs(text, ref, "冷凍設備の更新資金")] == ["finance", "food_processing"]
    assert [n for n, _ in needs(text, ref)] == ["food_processing", "finance"]  # no title: first mentioned


def test_logging_a_case_stores_the_needs_routing_recognises(repo, run, new_case):
    case_id = new_case(title="冷凍設備の更新資金", summary="冷凍設備の老朽化で融資を受けたい")
    data = yaml.safe_load(next(repo.glob(f"cases/*/{case_id}.yaml")).read_text(encoding="utf-8"))
    assert data["needs"] == ["finance", "food_processing"]
    got = json.loads(run("route", case_id, "--format", "json").stdout)
    assert got["needs"] == [{"need": "finance", "matched": ["資金", "融資"]},
                            {"need": "food_processing", "matched": ["冷凍"]}]  # fmt: skip


# --- views ----------------------------------------------------------------------------------------


def test_case_new_shows_the_suggestion(repo, run):
    result = run(
        "case", "new", "--no-input", "--company", "株式会社十勝チーズ工房", "--municipality", "帯広市",
        "--title", "新しいチーズの開発と販売", "--received-by", "hokuyo", "--channel", "visit",
        "--summary", "新しいチーズの試作から、首都圏への販路開拓、工場の設備投資の融資まで一貫して相談したい。",
        "--received-on", "2026-11-20",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hro-2026-0001\n"
    lines = result.stderr.splitlines()
    start = lines.index("振り分けの提案(3(2)②ウb):")
    assert lines[start:start + 7] == [
        "振り分けの提案(3(2)②ウb):",
        "  主担当: 道総研",
        "  調整: センター(道総研 産業技術研究本部ものづくり支援センター)",
        "  協力機関: 中小企業総合支援センター、北洋銀行",
        "  地域の機関: とかち財団",
        "  産学官金チーム: 道総研、中小企業総合支援センター、北洋銀行、とかち財団",
        "  理由は kitamono route hro-2026-0001、記録は kitamono route hro-2026-0001 --apply",
    ]


def test_the_table_view_shows_names(run, env):
    result = run("route", "--text", "工場の運転資金\n乳製品工場の運転資金が不足しており、融資を相談したい。",
                 "--municipality", "帯広市", "--received-by", "とかち財団", "--format", "plain")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    head = result.stdout.split("\n\n")[0].splitlines()
    assert head == [
        "【振り分けの提案】",
        "項目              内容",
        "受付機関          とかち財団",
        "市町村(振興局)    帯広市(十勝)",
        "分野              食料品製造関連",
        "必要な支援        金融",
        "対応の区分        3(2)②ウb",
        "主担当            北洋銀行",
        "調整              センター(道総研 産業技術研究本部ものづくり支援センター)",
        "協力機関",
        "地域の機関        とかち財団",
        "大学",
        "道外の機関",
        "産学官金チーム",
        "基本計画          帯広市",
        "基本計画との整合  沿っている",
    ]
    assert "3(2)②ウb    とかち財団の支援機能には「金融」がないため" in result.stdout
    assert "(とかち財団は3(1)の5つの地域経済牽引支援機関ではありませんが、ウに準じて扱います)" in result.stdout
    assert "取引銀行が分からないため北洋銀行を挙げました。北海道銀行でも同じ役割です" in result.stdout


def test_reasons_in_english(run, env, monkeypatch):
    monkeypatch.setenv("KITAMONO_LANG", "en")
    result = run("route", "--text", "工場の運転資金\n乳製品工場の運転資金が不足しており、融資を相談したい。",
                 "--municipality", "帯広市", "--received-by", "hokuyo", "--format", "json")  # fmt: skip
    reasons = json.loads(result.stdout)["reasons"]
    assert reasons[0] == 'Need "Finance": recognised from 「運転資金」「融資」 in the text'
    assert reasons[2].startswith("3(2)②ウa: The inquiry reached 北洋銀行. Every need (Finance)")


def test_route_a_case_shows_its_suggestion_in_every_format(repo, run, new_case):
    case_id = new_case()
    for fmt in ("table", "plain", "markdown", "csv", "html"):
        result = run("route", case_id, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert "道総研" in result.stdout and "3(2)②イa" in result.stdout
    out = repo / "route.xlsx"
    assert run("route", case_id, "-o", out).exit_code == 0 and out.stat().st_size > 0


# --- the team after two referrals (エ) -------------------------------------------------------------


def test_referred_twice_without_support_starting_gets_a_team(repo, run, new_case):
    case_id = new_case()  # 殺菌・品質・検査 at the センター: イa, no team
    assert json.loads(run("route", case_id, "--format", "json").stdout)["team"] == []
    assert run("case", "refer", case_id, "--to", "noastec", "--date", "2019-05-20").exit_code == 0
    assert json.loads(run("route", case_id, "--format", "json").stdout)["team"] == []
    assert run("case", "refer", case_id, "--to", "hsc", "--by", "noastec", "--date", "2019-06-01").exit_code == 0
    got = json.loads(run("route", case_id, "--format", "json").stdout)
    assert got["team"] == ["hro", "tokachi"]
    assert got["coordinator"] == "hro"
    assert any(r.startswith("3(2)②エ: 支援が始まらないまま2回紹介されているため") for r in got["reasons"])

    assert run("case", "start", case_id, "--lead", "hsc", "--date", "2019-06-10").exit_code == 0
    assert json.loads(run("route", case_id, "--format", "json").stdout)["team"] == []


def test_reports_to_the_center_are_not_referrals_for_the_team_rule(repo, run, new_case):
    case_id = new_case(received_by="hokuyo", title="大学との共同研究", summary="特許の相談も")
    assert run("route", case_id, "--apply", "--yes", "--date", "2019-05-20").exit_code == 0
    got = json.loads(run("route", case_id, "--format", "json").stdout)
    assert got["team"] == []  # hokuyo → センター (a report) and センター → noastec: one referral


# --- recording a suggestion (--apply) -------------------------------------------------------------


def events_of(repo: Path, case_id: str) -> list[dict]:
    path = next(repo.glob(f"cases/*/{case_id}.yaml"))
    return yaml.safe_load(path.read_text(encoding="utf-8"))["events"]


def test_apply_records_the_report_and_the_arrangement(repo, run, new_case):
    case_id = new_case(received_by="hokuyo", title="大学との共同研究", summary="特許の相談も")
    result = run("route", case_id, "--apply", "--yes", "--date", "2019-05-20", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["lead"] == "noastec"
    assert events_of(repo, case_id)[1:] == [
        {"type": "referred", "date": __import__("datetime").date(2019, 5, 20), "by": "hokuyo", "to": "hro",
         "note": "3(2)②ウb: センターへ報告(kitamono route)"},
        {"type": "referred", "date": __import__("datetime").date(2019, 5, 20), "by": "hro", "to": "noastec",
         "note": "3(2)②ウb: センターが調整(kitamono route)"},
    ]  # fmt: skip
    assert "案件 hro-2019-0001 に2件記録しました" in result.stderr
    again = run("route", case_id, "--apply", "--yes")
    assert again.exit_code == 0 and "記録することはありません" in again.stderr
    assert len(events_of(repo, case_id)) == 3


def test_apply_at_the_center_refers_once_and_records_a_team(repo, run, new_case):
    case_id = new_case(title="新しいチーズの開発と販売",
                       summary="新しいチーズの試作から、首都圏への販路開拓、"
                               "工場の設備投資の融資まで相談したい。")  # fmt: skip
    result = run("route", case_id, "--apply", "--yes")
    assert result.exit_code == 0, result.stderr
    events = events_of(repo, case_id)[1:]
    # The lead is 道総研, the センター itself: no referral; the team is recorded by the センター.
    assert [(e["type"], e["by"], e.get("members")) for e in events] == [
        ("team_formed", "hro", ["hro", "hsc", "hokuyo", "tokachi"]),
    ]
    assert str(events[0]["date"]) == "2026-11-28"


def test_apply_when_the_receiver_keeps_it_records_nothing(repo, run, new_case):
    case_id = new_case()
    before = snapshot(repo)
    result = run("route", case_id, "--apply", "--yes")
    assert result.exit_code == 0
    assert "記録することはありません" in result.stderr
    assert snapshot(repo) == before


def test_apply_without_a_terminal_needs_yes(repo, run, new_case):
    case_id = new_case(received_by="hokuyo")
    before = snapshot(repo)
    result = run("route", case_id, "--apply")
    assert result.exit_code == 1
    assert result.stderr == "エラー: 端末から実行されていないため確認できません。記録するには --yes を付けてください\n"
    assert result.stdout == ""
    assert snapshot(repo) == before


@pytest.mark.parametrize(("answer", "recorded"), [("y\n", True), ("n\n", False)])
def test_apply_asks_first(repo, run, new_case, monkeypatch, answer, recorded):
    import kitamono.cli.route as route_cli

    monkeypatch.setattr(route_cli, "_interactive", lambda: True)
    case_id = new_case(received_by="hokuyo")
    result = run("route", case_id, "--apply", input=answer)
    assert "案件 hro-2019-0001 に記録する内容:" in result.stderr
    assert "  2026-11-28 紹介 北洋銀行 → 道総研 — 3(2)②ウb: センターへ報告(kitamono route)" in result.stderr
    assert "この内容を案件 hro-2019-0001 に記録しますか?" in result.stderr
    assert result.exit_code == (0 if recorded else 1)
    assert len(events_of(repo, case_id)) == (2 if recorded else 1)


def test_apply_to_a_closed_case_is_refused_and_changes_nothing(repo, run, new_case):
    case_id = new_case(received_by="hokuyo")
    assert run("case", "close", case_id, "--outcome", "辞退", "--date", "2019-06-01").exit_code == 0
    before = snapshot(repo)
    result = run("route", case_id, "--apply", "--yes")
    assert result.exit_code == 1 and result.stderr.startswith("エラー: ")
    assert snapshot(repo) == before


# --- tuning by data -------------------------------------------------------------------------------


def repository_data(repo: Path) -> Path:
    """The repository's own data folder, switched on in kitamono.yaml."""
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    (repo / "data").mkdir(exist_ok=True)
    return repo / "data"


def test_staff_can_add_words_in_the_repository_data(repo, run, new_case):
    text = ["--text", "燻製の相談\nサケの燻製の香りを良くしたい", "--municipality", "釧路市", "--format", "json"]
    assert json.loads(run("route", *text).stdout)["needs"] == []
    shipped = yaml.safe_load((Path(__file__).parents[1] / "data" / "needs.yaml").read_text(encoding="utf-8"))
    words = shipped["needs"]["food_processing"] + ["燻製"]
    (repository_data(repo) / "needs.yaml").write_text(
        yaml.safe_dump({"needs": {"food_processing": words}}, allow_unicode=True), encoding="utf-8")
    got = json.loads(run("route", *text).stdout)
    assert got["needs"] == [{"need": "food_processing", "matched": ["燻製"]}]


def test_staff_can_tune_the_rule_inputs(repo, run):
    shipped = (Path(__file__).parents[1] / "data" / "routing.yaml").read_text(encoding="utf-8")
    (repository_data(repo) / "routing.yaml").write_text(shipped.replace("team_min_kinds: 3", "team_min_kinds: 2"),
                                                encoding="utf-8")  # fmt: skip
    got = json.loads(run("route", "--text", "冷凍設備の更新資金\n冷凍設備の更新に融資を受けたい",
                         "--municipality", "釧路市", "--format", "json").stdout)  # fmt: skip
    assert got["team"] == ["hro", "hokuyo", "kushiro_itc"]


def test_a_bad_rules_file_is_named(repo, run):
    shipped = (Path(__file__).parents[1] / "data" / "routing.yaml").read_text(encoding="utf-8")
    path = repository_data(repo) / "routing.yaml"
    path.write_text(shipped.replace("institutions: [noastec]", "institutions: [nostec]"), encoding="utf-8")
    result = run("route", "--text", "試作", "--municipality", "帯広市")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"エラー: {path}: 機関「nostec」は登録されていません")
    path.write_text(shipped.replace("needs: [management, market, startup]", "needs: [management, startup]"),
                    encoding="utf-8")  # fmt: skip
    result = run("route", "--text", "試作", "--municipality", "帯広市")
    assert result.exit_code == 1 and "market" in result.stderr and str(path) in result.stderr


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--text", "試作", "--municipality", "帯広"], "エラー: 市町村「帯広」は北海道の179市町村にありません"),
        (
            ["--text", "試作", "--municipality", "帯広市", "--received-by", "北洋"],
            "エラー: 機関「北洋」は登録されていません",
        ),
        (["--text", "試作"], "エラー: --text には --municipality が必要です"),
        ([], "エラー: 案件ID か --text のどちらか一方を指定してください"),
        (["hro-2019-0001", "--text", "試作"], "エラー: 案件ID か --text のどちらか一方を指定してください"),
        (
            ["--text", "試作", "--municipality", "帯広市", "--apply"],
            "エラー: --apply は案件IDを指定したときだけ使えます",
        ),
        (["hro-2019-0001", "--needs", "finance"], "エラー: 案件IDを指定したときは --needs は使えません"),
    ],
)
def test_bad_input_is_one_clear_line(repo, run, new_case, args, expected):
    new_case()
    before = snapshot(repo)
    result = run("route", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    assert snapshot(repo) == before


def test_an_unknown_case_is_an_error(repo, run):
    result = run("route", "hro-2019-0099")
    assert result.exit_code == 1 and result.stderr.startswith("エラー: ")


def test_text_works_outside_any_repository(run, env):
    result = run("route", "--text", "試作したい", "--municipality", "帯広市", "--format", "json")
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["received_by"] == "hro" and got["lead"] == "hro" and got["clause"] == "イa"
