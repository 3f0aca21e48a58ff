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
    government: list[str] = field(default_factory=list)
    case_field: str | None = None  # the field routing must suggest (checked when given)
    quotes: list[str] = field(default_factory=list)  # whole phrases a reason must contain


ROWS = [
    # --- handled where received (イa / ウa) ---
    # 殺菌・品質 (technical), 検査 (testing): all within 道総研's competences → the センター keeps it.
    # 十勝: とかち財団 serves it and covers technical/testing.
    Row("cheese_at_the_center", "hro", "帯広市",
        "ナチュラルチーズの殺菌工程の見直し\n新しい殺菌装置の導入にあたり、品質の検査方法を相談したいです。",
        "イa", "hro", None, ["tokachi"], words=["殺菌", "品質", "検査"]),
    # A furniture maker in 旭川: 旭川市工芸センター (上川) has 工業技術 and names 家具・デザイン・試作 among its
    # strengths, so the センター arranges it there (イb, a regional specialist leads) though 道総研 could.
    Row("furniture_in_asahikawa", "hro", "旭川市",
        "ダイニングチェアの新作の試作について\n旭川市で家具を製造しています。新しい椅子のデザインと強度の確認をお願いできないでしょうか。",
        "イb", "asahikawa_craft", "hro", ["asahikawa_itc"], words=["試作", "デザイン"]),
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
        "ウb", "noastec", "hro", ["tomakomai_tc"], supporting=["hro"], words=["人材育成", "溶接"]),
    # The title ends on 事業化 (commercialisation) → ノーステック財団; research need → 情報大 (江別), 北大.
    # 江別市 is outside 道央産業振興財団's area (苫小牧・千歳・恵庭 and neighbours).
    Row("commercialisation_to_noastec", "hokuyo", "江別市",
        "研究成果の事業化\n大学で開発した米粉の新素材を製品化し、事業化まで進めたい。",
        "ウb", "noastec", "hro", [], supporting=["hro"], academia=["hiu", "hokudai"], words=["事業化", "製品化"]),
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
    # 商談会・バイヤー (sales channel) and 道外 (market) are both within 中小企業総合支援センター's 市場開拓.
    Row("sales_channel_kept_by_hsc", "hsc", "芽室町",
        "スイートコーンの商談会\n芽室町の農産物を使った食品を製造しています。道外のバイヤーとの商談会に出たい。取引先の紹介もお願いしたい。",
        "ウa", "hsc", None, ["tokachi"], words=["商談会", "バイヤー"]),
    # --- outside help (1(4)) ---
    # 機能性食品の臨床試験 is life science: lead 道総研 (industrial technology), 産総研 brought in.
    Row("life_science_clinical", "hro", "江別市",
        "機能性食品の臨床試験\nハスカップの機能性成分について、ヒトでの臨床試験を計画しています。",
        "イb", "hro", "hro", [], external=["aist"], words=["臨床試験"]),
    # ゲノム with 研究開発: 産総研 and JST; the title ends on 研究開発 → ノーステック財団 (received it, but not
    # the life science) → ウb, lead itself, 道総研 supports.
    Row("genome_research", "noastec", "札幌市",
        "ゲノム編集を使った品種の研究開発\nゲノム編集技術を使った酵母の研究開発を進めたい。",
        "ウb", "noastec", "hro", [], external=["aist", "jst"], supporting=["hro"],
        academia=["cist", "hiu", "hokudai"], fits=False, words=["ゲノム", "研究開発"]),
    # パワー半導体 is advanced electronics: 産総研. 千歳市's plan has food and IT, not ものづくり.
    Row("power_semiconductor", "hro", "千歳市",
        "パワー半導体の評価\n当社で開発中のパワー半導体モジュールの放熱性能を評価したい。",
        "イb", "hro", "hro", [], external=["aist"], fits=False, words=["パワー半導体"]),
    # 光デバイス + 研究開発 + 資金: three kinds of help, and still no team at intake (エ is an escalation);
    # the title ends on 資金 → the bank leads. 室蘭テクノセンター (西胆振) covers 研究開発; 室蘭工大 and
    # 苫小牧高専 are 胆振's universities / 高専.
    Row("photonics_with_funding", "hokuyo", "室蘭市",
        "光デバイスの研究開発と資金\n光デバイスの研究開発を始めたく、研究資金の調達も相談したい。",
        "ウb", "hokuyo", "hro", ["muroran_tc"], external=["aist", "jst"], supporting=["hro", "noastec"],
        academia=["muroran_it", "tomakomai_ct", "hokudai"], fits=False, words=["光デバイス"]),
    # --- no team at intake (エ is an escalation, see the tests below the table) ---
    # 試作 (technology) + 販路開拓・首都圏 (sales channel, market) + 融資 (finance): three kinds, no team yet;
    # the sales side goes to 中小企業総合支援センター (first of the three, bank unknown), 融資 to 北洋銀行.
    Row("three_kinds_no_team_at_intake", "hro", "帯広市",
        "新しいチーズの開発と販売\n新しいチーズの試作から、首都圏への販路開拓、工場の設備投資の融資まで一貫して相談したい。",
        "イb", "hro", "hro", ["tokachi"], supporting=["hsc", "hokuyo"], words=["試作", "販路開拓", "融資"]),
    # The same kinds reaching a regional body, the title ending on 販路 (sales channel): 中小企業総合
    # 支援センター leads (first of the three, bank unknown); 道総研 supports 殺菌, 北洋銀行 the loan.
    Row("four_needs_no_team_at_intake", "tokachi", "帯広市",
        "チーズの殺菌と販路\n殺菌装置の導入と道外への販路開拓、設備資金の融資を相談したい",
        "ウb", "hsc", "hro", ["tokachi"], supporting=["hro", "hokuyo"], words=["殺菌", "販路", "融資"]),
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
    # 函館地域産業振興財団 (渡島) has 食品加工技術 and names イカ among its strengths: it leads (イb).
    Row("squid_in_hakodate", "hro", "函館市",
        "イカの加工と衛生管理\nイカの一夜干しを製造しています。HACCPに沿った衛生管理と異物対策を相談したい。",
        "イb", "hakodate", "hro", [], words=["衛生管理", "HACCP", "イカ"]),
    Row("cans_in_kushiro", "hro", "釧路市",
        "サンマの缶詰の殺菌条件\nサンマ缶詰のレトルト殺菌の条件を見直したい。",
        "イa", "hro", None, ["kushiro_itc"], words=["殺菌", "レトルト"]),
    Row("wood_in_kitami", "hro", "北見市",
        "木製品の塗装不良\n木製の玩具の塗装がはがれる不良が出ている。原因を調べてほしい。",
        "イa", "hro", None, ["kitami_itc"], words=["塗装"]),
    # 苫小牧市テクノセンター (東胆振) has 工業技術 and names 自動車部品 among its strengths: it leads.
    Row("dies_in_tomakomai", "hro", "苫小牧市",
        "自動車部品の金型\n自動車部品のプレス金型の摩耗が早い。表面処理で寿命を延ばしたい。",
        "イb", "tomakomai_tc", "hro", [], words=["金型", "表面処理", "自動車部品"]),
    # 研究開発: 室蘭テクノセンター (西胆振) has it and names 航空機 and 室蘭工業大学 → it leads; ノーステック
    # 財団 supports; 室蘭工大 and 苫小牧高専 are in 胆振. 道央産業振興財団 does not serve 室蘭市.
    Row("aircraft_in_muroran", "hro", "室蘭市",
        "航空機部品の研究開発\n航空機向けチタン部品の切削について、室蘭工業大学と研究開発を進めたい。",
        "イb", "muroran_tc", "hro", [], supporting=["noastec"], academia=["muroran_it", "tomakomai_ct", "hokudai"],
        words=["研究開発", "航空機", "室蘭工業大学"]),
    # The title ends on 研究 → ノーステック財団; 北見工大 (IT) is in オホーツク; no network body does IT there.
    Row("cold_iot_in_kitami", "hro", "北見市",
        "寒冷地向けIoTの研究\n寒冷地の道路を監視するIoTセンサの研究を行いたい。",
        "イb", "noastec", "hro", [], supporting=["hro"], academia=["kitami_it", "hokudai"], words=["研究", "IoT"]),
    # --- 2. subsidies are not loans (3(1), 1(4), 1(6)) ---
    # ものづくり補助金 is a national programme: 中小企業総合支援センター leads, 北海道経済産業局 named; the
    # bank that received it covers no need (no loan asked) and is not listed. 小樽市: no plan, no body.
    Row("national_subsidy_at_a_bank", "hokuyo", "小樽市",
        "ものづくり補助金の申請について\n国のものづくり補助金に応募したい。申請書の書き方と公募の時期を相談したい。",
        "ウb", "hsc", "hro", [], fits=None, government=["hokkaido_meti"], words=["補助金", "ものづくり補助金"],
        quotes=["融資ではありません", "北海道経済産業局"]),
    # 研究開発助成 is both a research need and a grant: the title's 助成 → ノーステック財団's research grants.
    # 札幌 (石狩): universities of the field other → 千歳科技大, 情報大, 北大.
    Row("research_grant_to_noastec", "hro", "札幌市",
        "研究開発助成への応募\n乳酸菌を使った新しい研究開発で、研究開発助成に応募したい。",
        "イb", "noastec", "hro", [], academia=["cist", "hiu", "hokudai"], fits=False, words=["研究開発助成"],
        quotes=["基礎的・先導的研究への支援事業"]),
    # A technology development grant and a loan: the grant (title) → 中小企業総合支援センター, the loan →
    # the company's bank 北海道銀行 as supporting (a bank only because a loan is asked).
    Row("grant_and_loan", "hro", "小樽市",
        "運転資金の借入と技術開発助成\n技術開発助成に申請したい。あわせて運転資金の借入も相談したい。",
        "イb", "hsc", "hro", [], supporting=["dogin"], fits=None, options={"bank": "北海道銀行"},
        words=["技術開発助成", "運転資金"], quotes=["技術開発助成、資金供給"]),
    # --- 3. the banks' own functions: sales channels through the branches (1(3)) ---
    Row("bank_keeps_sales_channel", "dogin", "小樽市",
        "販路拡大の相談\n取引先を増やしたいので、ビジネスマッチングや商談会を紹介してほしい。",
        "ウa", "dogin", None, [], fits=None, words=["販路拡大", "ビジネスマッチング"]),
    # 海外展開 (market) is beyond the bank's role: 中小企業総合支援センター leads, and the bank that received
    # it co-handles the 販路拡大 its role covers.
    Row("bank_co_handles_sales_channel", "hokuyo", "小樽市",
        "販路拡大と海外展開\n国内の販路拡大に加えて、台湾への輸出を始めたい。",
        "ウb", "hsc", "hro", [], supporting=["hokuyo"], fits=None, words=["販路拡大", "輸出"],
        quotes=["相談を受けた北洋銀行は"]),
    # --- 4. what the company is is not what it asks for ---
    # プレス加工をしています describes the business: only 設備資金 (finance) is asked → the bank keeps it.
    # 恵庭市 (石狩): 道央産業振興財団 serves it but matches nothing.
    Row("press_shop_asks_for_a_loan", "hokuyo", "恵庭市",
        "設備資金の相談\nプレス加工をしています。新しいプレス機の設備資金を借りたい。",
        "ウa", "hokuyo", None, [], words=["設備資金"], case_field="monozukuri",
        quotes=["「加工」は会社の説明(「プレス加工をしています」)"]),
    # --- 5. regional specialists can lead (イb・ウb: 「北のものづくりネットワーク」参加機関) ---
    # 北見工業技術センター (オホーツク) has 試験 and names 家具・試験: it leads, though 道総研 could test it.
    Row("furniture_strength_test_in_kitami", "hro", "北見市",
        "椅子の強度試験\n家具を製造しています。新しい椅子の強度試験をお願いしたい。",
        "イb", "kitami_itc", "hro", [], words=["強度試験", "家具"], case_field="monozukuri"),
    # A wood test reaching a bank in 旭川: 旭川市工業技術センター has 試験 and names 強度試験・試験 (two
    # strengths, against 工芸センター's one 木材) → it leads; 工芸センター is the regional body beside it.
    Row("wood_test_in_asahikawa", "dogin", "旭川市",
        "木材加工品の強度試験\n木材加工品の強度試験を依頼したい。",
        "ウb", "asahikawa_itc", "hro", ["asahikawa_craft"], words=["強度試験", "木材"]),
    # 中小企業総合支援センター keeps 事業化 (ウa); オホーツク財団 has 事業化 and names タマネギ・特産品, so it is
    # the first supporting body.
    Row("specialist_supports_a_kept_case", "hsc", "北見市",
        "特産品の事業化\nタマネギを使った特産品の事業化を進めたい。",
        "ウa", "hsc", None, [], supporting=["okhotsk"], words=["事業化", "タマネギ"]),
    # --- 6. areas at municipality level ---
    # 札幌市 is in 石狩 but outside 道央産業振興財団's area: no regional body (石狩 has no other).
    Row("sapporo_not_in_doo_area", "hro", "札幌市",
        "菓子の研究開発と事業化\n新しい菓子の研究開発と事業化を進めたい。",
        "イb", "noastec", "hro", [], academia=["hiu", "hokudai"], words=["研究開発", "事業化"]),
    # 千歳市 is in its area: 道央産業振興財団 has 事業化 and names 研究開発・事業化 among its strengths, so
    # the same inquiry goes to it as the regional specialist.
    Row("chitose_in_doo_area", "hro", "千歳市",
        "菓子の研究開発と事業化\n新しい菓子の研究開発と事業化を進めたい。",
        "イb", "doo", "hro", [], academia=["hiu", "hokudai"], words=["研究開発", "事業化"]),
    # 室蘭市 is 室蘭テクノセンター's (西胆振, strength 溶接: it leads), not 苫小牧市テクノセンター's (東胆振).
    Row("muroran_not_tomakomai_tc", "hro", "室蘭市",
        "鋼材の溶接割れ\n鋼材の溶接部に割れが出るので原因を調べてほしい。",
        "イb", "muroran_tc", "hro", [], words=["溶接"]),
    # --- 7. basic-plan fit reads every strategy line ---
    # 紋別市's 林業・木材・木製品製造分野 has no field tag but names 木製品: the case fits it.
    Row("wood_products_in_mombetsu", "hro", "紋別市",
        "木製品の塗装不良\n木製品の塗装がはがれる不良について相談したい。",
        "イa", "hro", None, ["kitami_itc"], words=["塗装"], case_field="monozukuri",
        quotes=["林業・木材・木製品製造分野", "「木製品」が当たるため沿っています"]),
    # 苫小牧市's 第4次産業革命分野（自動走行等） names 自動運転 (its words): fits, whatever the field.
    Row("autonomous_driving_in_tomakomai", "hro", "苫小牧市",
        "自動運転の実証実験\n苫東地域で自動運転の実証実験を行いたい。",
        "イb", "noastec", "hro", ["doo"], academia=["muroran_it", "tomakomai_ct", "hokudai"],
        words=["実証実験"], quotes=["第4次産業革命分野（自動走行等）"]),
    # --- 8. 高専 and the 経済産業局 ---
    # 釧路 research: 釧路高専 (釧路) and 北大; 釧路根室圏産業技術振興センター names 機械.
    Row("research_with_kushiro_kosen", "hro", "釧路市",
        "機械部品の共同研究\n機械部品の摩耗について、地元の高専と共同研究をしたい。",
        "イb", "noastec", "hro", ["kushiro_itc"], supporting=["hro"], academia=["kushiro_ct", "hokudai"],
        words=["共同研究"]),
    # --- 9. field guessing ---
    Row("kazunoko_is_food", "hro", "留萌市",
        "数の子の味付け\n数の子の味付けを改良したい。",
        "イa", "hro", None, ["asahikawa_plaza"], fits=None, case_field="food", words=["改良"]),
    Row("hakka_oil_is_food", "hro", "北見市",
        "ハッカ油の成分分析\nハッカ油の成分分析をお願いしたい。",
        "イa", "hro", None, [], case_field="food", words=["成分分析"]),
    # 食品: コロッケ・冷凍コロッケ (2) against ものづくり: 製造ライン・自動化・省力化 (3): a near tie, and the title
    # names コロッケ first → 食料品製造関連 (its plan covers food-plant automation).
    Row("croquette_line_is_food", "hro", "帯広市",
        "コロッケ製造ラインの自動化\n冷凍コロッケの製造ラインを自動化して省力化したい。",
        "イa", "hro", None, ["tokachi"], case_field="food", words=["自動化"],
        quotes=["件名が挙げる「食料品製造関連」"]),
]

CLAUSES = {"", "1(1)", "1(1)・別紙", "1(2)", "1(3)", "1(3)・1(4)", "1(4)", "1(4)・1(6)", "3(1)・1(6)",
           "3(2)②イb・1(2)", "3(2)②ウb・1(2)",
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
    assert not any(r.team for r in ROWS)  # a team is never suggested at intake (エ is an escalation)
    assert any(r.fits is None for r in ROWS) and any(r.fits is False for r in ROWS)
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
    assert got["government"] == row.government
    assert got["team_roles"] is None
    if row.case_field is not None:
        assert got["field"] == row.case_field
    for phrase in row.quotes:
        assert any(phrase in r for r in got["reasons"]), phrase
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
    assert needs("競争的資金に応募したい", ref) == [("rnd", ("競争的資金",)), ("subsidy", ("競争的資金",))]


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
    # No team at intake; 北洋銀行 received it and co-handles the 販路開拓・融資 its role covers.
    assert lines[start:start + 6] == [
        "振り分けの提案(3(2)②ウb):",
        "  主担当: 道総研",
        "  調整: センター(道総研 産業技術研究本部ものづくり支援センター)",
        "  協力機関: 北洋銀行、中小企業総合支援センター",
        "  地域の機関: とかち財団",
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
        "行政",
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


# --- the team: an escalation (エ) -----------------------------------------------------------------


def route_json(run, *args):
    result = run("route", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_team_only_when_support_has_not_started_within_the_period(repo, run, new_case):
    case_id = new_case()  # 殺菌・品質・検査 at the センター: イa
    assert route_json(run, case_id)["team"] == []
    assert run("case", "refer", case_id, "--to", "noastec", "--date", "2019-05-20").exit_code == 0
    # 59 days after the referral: not yet, and the reason says how long it has waited.
    got = route_json(run, case_id, "--date", "2019-07-18")
    assert got["team"] == [] and got["team_roles"] is None
    assert "3(2)②エ: 2019-05-20の紹介から59日で、まだ支援が始まっていませんが、目安の60日に達していないため、" \
           "産学官金チームは提案しません" in got["reasons"]  # fmt: skip
    # 60 days: イ/ウ did not work. 産 the company, 学 北大 (no food university in or next to 十勝),
    # 官 道総研 (the lead, a public body), 金 北洋銀行 (first bank, the company's unknown).
    got = route_json(run, case_id, "--date", "2019-07-19")
    assert got["team"] == ["hro", "hokudai", "hokuyo"]
    assert got["coordinator"] == "hro"
    assert got["team_roles"] == {"industry": "株式会社十勝チーズ工房", "academia": "hokudai", "government": "hro",
                                 "finance": "hokuyo", "coordinator": "hro"}  # fmt: skip
    assert ("3(2)②エ: 2019-05-20に道総研からノーステック財団へ紹介してから60日たっても支援が始まっていません"
            "(目安は60日)。イ・ウで対応が難しいため、センターが関係機関と調整し、産学官金のチームで解決策を示します"
            ) in got["reasons"]  # fmt: skip
    assert ("3(2)②エ: チームの産学官金: 産は株式会社十勝チーズ工房、学は北大(全道を対象とする大学で分野が合う)、"
            "官は道総研(この案件に挙がっている公的機関)、金は北洋銀行(取引銀行が分からないため。取引銀行が分かればその銀行)。"
            "センター(道総研 産業技術研究本部ものづくり支援センター)が調整役です。メンバー: 道総研、北大、北洋銀行"
            ) in got["reasons"]  # fmt: skip

    assert run("case", "start", case_id, "--lead", "noastec", "--date", "2019-07-20").exit_code == 0
    assert route_json(run, case_id, "--date", "2019-12-01")["team"] == []


def test_a_report_to_the_center_starts_the_clock_and_the_receiving_bank_is_the_kin(repo, run, new_case):
    case_id = new_case(received_by="hokuyo", title="大学との共同研究", summary="特許の相談も")
    assert run("route", case_id, "--apply", "--yes", "--date", "2019-05-20").exit_code == 0
    got = route_json(run, case_id, "--date", "2019-07-19")
    assert got["team_roles"]["finance"] == "hokuyo" and got["team_roles"]["government"] == "hro"
    # 学: 北見工大 fits the field and is in a 振興局 next to 十勝 (it is named for research as well).
    assert got["team_roles"]["academia"] == "kitami_it"
    assert any(r.startswith("3(2)②エ: 2019-05-20に北洋銀行から道総研へ報告してから60日") for r in got["reasons"])
    assert any("金は北洋銀行(相談を受けた銀行)" in r for r in got["reasons"])


def test_staff_can_ask_for_a_team(repo, run, new_case):
    case_id = new_case(bank="北海道銀行")
    got = route_json(run, case_id, "--team")
    assert got["team"] == ["hro", "hokudai", "dogin"]
    assert got["team_roles"]["finance"] == "dogin"
    assert "3(2)②エ: 職員がチームを求めました。イ・ウで対応が難しいとして、センターが関係機関と調整し、" \
           "産学官金のチームで解決策を示します" in got["reasons"]  # fmt: skip
    assert any("金は北海道銀行(会社の取引銀行)" in r for r in got["reasons"])
    # Without --team the same case gets none.
    assert route_json(run, case_id)["team"] == []


def test_a_regional_public_body_fills_kan_and_a_kosen_fills_gaku(run, env):
    got = route_json(run, "--text", "木材加工品の強度試験\n木材加工品の強度試験を依頼したい。",
                     "--municipality", "旭川市", "--received-by", "北海道銀行", "--team")  # fmt: skip
    # 旭川市工業技術センター leads and is a municipal body (官); 旭川高専 fits ものづくり in 上川 (学);
    # 北海道銀行 received it (金).
    assert got["team_roles"] == {"industry": None, "academia": "asahikawa_ct", "government": "asahikawa_itc",
                                 "finance": "dogin", "coordinator": "hro"}  # fmt: skip
    assert got["team"] == ["hro", "asahikawa_itc", "asahikawa_ct", "dogin"]
    assert any("産は相談した企業、学は旭川高専(地域の大学・高専で分野が合う)" in r for r in got["reasons"])


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
    again = run("route", case_id, "--apply", "--yes", "--date", "2019-05-21")
    assert again.exit_code == 0 and "記録することはありません" in again.stderr
    assert len(events_of(repo, case_id)) == 3


def test_apply_records_no_team_at_intake(repo, run, new_case):
    case_id = new_case(title="新しいチーズの開発と販売",
                       summary="新しいチーズの試作から、首都圏への販路開拓、"
                               "工場の設備投資の融資まで相談したい。")  # fmt: skip
    before = snapshot(repo)
    result = run("route", case_id, "--apply", "--yes", "--date", "2019-05-20")
    # The lead is 道総研, the センター itself: no referral, and no team (three kinds is no escalation).
    assert result.exit_code == 0, result.stderr
    assert "記録することはありません" in result.stderr
    assert snapshot(repo) == before


def test_apply_records_a_team_with_a_start_naming_the_lead(repo, run, new_case):
    case_id = new_case()
    assert run("case", "refer", case_id, "--to", "noastec", "--date", "2019-05-20").exit_code == 0
    result = run("route", case_id, "--apply", "--yes", "--date", "2019-07-19")
    assert result.exit_code == 0, result.stderr
    assert "  2019-07-19 支援開始 道総研: 主担当 道総研、協力 北大、北洋銀行 — 3(2)②エ: 産学官金チームで支援開始" \
           "(kitamono route)" in result.stderr  # fmt: skip
    events = events_of(repo, case_id)[2:]
    assert [(e["type"], e["by"], e.get("lead"), e.get("supporting"), e.get("members")) for e in events] == [
        ("started", "hro", "hro", ["hokudai", "hokuyo"], None),
        ("team_formed", "hro", None, None, ["hro", "hokudai", "hokuyo"]),
    ]
    shown = json.loads(run("case", "show", case_id, "--format", "json").stdout)
    assert shown["status"] == "supporting" and shown["lead"] == "hro"  # 支援中, with a lead
    # Support has started: no team is suggested again, nothing more to record.
    again = run("route", case_id, "--apply", "--yes", "--date", "2019-12-01")
    assert again.exit_code == 0 and "記録することはありません" in again.stderr


def test_apply_a_team_asked_for_on_a_started_case_records_only_the_team(repo, run, new_case):
    case_id = new_case()
    assert run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01").exit_code == 0
    assert run("route", case_id, "--apply", "--yes", "--team", "--date", "2019-06-10").exit_code == 0
    assert [(e["type"], e.get("members")) for e in events_of(repo, case_id)[2:]] == [
        ("team_formed", ["hro", "hokudai", "hokuyo"]),
    ]


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


def test_staff_can_tune_the_rule_inputs(repo, run, new_case):
    case_id = new_case()
    assert run("case", "refer", case_id, "--to", "noastec", "--date", "2019-05-20").exit_code == 0
    assert route_json(run, case_id, "--date", "2019-06-19")["team"] == []  # 30 days: under the shipped 60
    shipped = (Path(__file__).parents[1] / "data" / "routing.yaml").read_text(encoding="utf-8")
    assert "  after_days: 60\n" in shipped
    (repository_data(repo) / "routing.yaml").write_text(shipped.replace("  after_days: 60\n", "  after_days: 30\n"),
                                                encoding="utf-8")  # fmt: skip
    got = route_json(run, case_id, "--date", "2019-06-19")
    assert got["team"] == ["hro", "hokudai", "hokuyo"]
    assert any("60日" not in r and "(目安は30日)" in r for r in got["reasons"])


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
