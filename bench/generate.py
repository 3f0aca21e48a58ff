"""Generate a realistic case repository for the benchmark: N cases over FY2018–2027.

Cases look like real ones (30–60 lines, Japanese company names, titles and summaries, several
events by several institutions), are spread over every institution and fiscal year, and follow
the case rules, so ``kitamono check`` passes on them with ``KITAMONO_TODAY=2028-03-31``::

    python bench/generate.py /tmp/bench-10k 10000
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

from kitamono.caseio import case_text
from kitamono.models import Case, Company, Contact, Event
from kitamono.reference import load_reference
from kitamono.store import SETTINGS_FILE

FIRST = date(2018, 4, 1)
LAST = date(2028, 3, 31)
BENCH_TODAY = "2028-03-31"

PRODUCTS = {
    "food": ["ナチュラルチーズ", "焼き菓子", "ホタテの加工品", "冷凍惣菜", "じゃがいもスナック", "地酒", "昆布だし", "ハム・ソーセージ"],
    "monozukuri": ["木製家具", "精密部品", "農業機械の部品", "樹脂成形品", "金属加工品", "航空機用部材", "紙製容器", "鋳物"],
    "it": ["在庫管理システム", "IoTセンサ", "画像認識AI", "予約アプリ", "生産管理ソフトウェア", "遠隔監視システム"],
    "other": ["観光案内", "人材確保", "事業承継"],
}
ASKS = [
    "{p}の品質を安定させたいので、殺菌条件と分析方法について相談したい。",
    "{p}の試作を進めており、強度や寸法の試験をお願いしたい。",
    "{p}の販路を道外に広げたい。展示会と商談の進め方、市場の調べ方を知りたい。",
    "{p}の製造ラインを増やすための設備投資と融資について相談したい。",
    "大学と共同で{p}の研究開発を行い、特許と事業化まで進めたい。",
    "{p}の事業化に向けて補助金の使い方と資金計画を相談したい。",
]
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "翔", "陽子", "健", "由美"]


def make_case(rng: random.Random, ref, prefix: str, seq: int, received: date) -> Case:
    field = rng.choices(["food", "monozukuri", "it", "other"], weights=[5, 4, 2, 1])[0]
    product = rng.choice(PRODUCTS[field])
    municipality = rng.choice(list(ref.municipalities))
    support = [i for i in ref.institutions.values() if i.kind == "support"]
    others = [i for i in ref.institutions.values() if i.kind in ("network", "support")]
    by = rng.choice(others).id
    events = [Event(type="received", date=received, by=by, note="窓口で受付")]
    day = received
    stage = rng.random()

    def later(low: int, high: int) -> date:
        nonlocal day
        day = min(day + timedelta(days=rng.randint(low, high)), LAST)
        return day

    if stage > 0.3:
        target = rng.choice([i.id for i in support if i.id != by] or ["hro"])
        events.append(Event(type="referred", date=later(1, 20), by=by, to=target, note="専門の機関へ紹介"))
        by = target
    if stage > 0.5:
        partner = rng.choice([i.id for i in support if i.id != by])
        events.append(Event(type="started", date=later(5, 40), by=by, lead=by, supporting=[partner]))
        for _ in range(rng.randint(1, 3)):
            events.append(Event(type="supported", date=later(10, 90), by=rng.choice([by, partner]), note="技術相談と試験"))
        for _ in range(rng.randint(0, 2)):
            events.append(Event(type="followed_up", date=later(200, 400), by=by, note="進捗を確認"))
        if rng.random() < 0.3:
            events.append(Event(type="closed", date=later(30, 200), by=by, outcome="製品化"))
    company = f"株式会社{municipality.removesuffix('市').removesuffix('町').removesuffix('村')}{product[:2]}{seq % 97}"
    return Case(
        id=f"{prefix}-{received.year if received.month >= 4 else received.year - 1}-{seq:04d}",
        demo=True,
        received_on=received,
        received_by=events[0].by,
        channel=rng.choice(["visit", "phone", "email", "web", "referral", "event"]),
        company=Company(name=company, municipality=municipality),
        contact=Contact(person=rng.choice(SURNAMES) + rng.choice(GIVEN), phone=f"011-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"),
        title=f"{product}についての相談",
        summary=rng.choice(ASKS).format(p=product) + "\n社内に技術者が少なく、進め方から教えてほしい。",
        field=field,
        needs=rng.sample(["technical", "market", "finance", "rnd", "management"], k=rng.randint(1, 3)),
        events=events,
    )


def generate(root: Path, count: int, seed: int = 20180329) -> None:
    rng = random.Random(seed)
    ref = load_reference()
    root.mkdir(parents=True, exist_ok=True)
    (root / SETTINGS_FILE).write_text("{}\n", encoding="utf-8")
    prefixes = [i.id for i in ref.institutions.values() if i.kind in ("support", "network")]
    span = (LAST - FIRST).days
    counters: dict[tuple[str, int], int] = {}
    for _ in range(count):
        received = FIRST + timedelta(days=rng.randint(0, span - 30))
        fy = received.year if received.month >= 4 else received.year - 1
        prefix = rng.choice(prefixes)
        seq = counters[(prefix, fy)] = counters.get((prefix, fy), 0) + 1
        case = make_case(rng, ref, prefix, seq, received)
        folder = root / "cases" / str(fy)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{case.id}.yaml").write_text(case_text(case), encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
