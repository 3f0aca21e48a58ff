"""The shipped reference data states the plan's facts (counted from the data, not copied)."""

from __future__ import annotations

from collections import Counter

import pytest

from kitamono.models import ALL_HOKKAIDO, FIELD_IDS, SUBPREFECTURES
from kitamono.reference import load_reference

#: Where each network body (and the other Hokkaido participants) mainly works (DOMAIN.md).
EXPECTED_AREAS = {
    "asahikawa_plaza": ["上川", "留萌", "宗谷"],
    "asahikawa_itc": ["上川"],
    "asahikawa_craft": ["上川"],
    "okhotsk": ["オホーツク"],
    "kitami_itc": ["オホーツク"],
    "kushiro_itc": ["釧路", "根室"],
    # 西胆振, 東胆振 and 苫小牧・千歳・恵庭 with their neighbours: narrower than a 振興局, so municipalities.
    "muroran_tc": ["室蘭市", "登別市", "伊達市", "豊浦町", "壮瞥町", "洞爺湖町"],
    "tomakomai_tc": ["苫小牧市", "白老町", "厚真町", "安平町", "むかわ町"],
    "doo": ["苫小牧市", "千歳市", "恵庭市", "白老町", "厚真町", "安平町", "むかわ町"],
    "tokachi": ["十勝"],
    "hakodate": ["渡島", "檜山"],
    "hro": [ALL_HOKKAIDO],
    "noastec": [ALL_HOKKAIDO],
    "hsc": [ALL_HOKKAIDO],
    "hokkaido": [ALL_HOKKAIDO],
}

SUBPREFECTURE_COUNTS = {
    "石狩": 8, "空知": 24, "後志": 20, "胆振": 11, "日高": 7, "渡島": 11, "檜山": 7,
    "上川": 23, "留萌": 8, "宗谷": 10, "オホーツク": 18, "十勝": 19, "釧路": 8, "根室": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def check_digit(code: str) -> int:
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


# --- fields ---------------------------------------------------------------------------------------


def test_three_fields(ref):
    assert list(ref.fields) == ["food", "monozukuri", "it"]
    assert ref.fields["food"].name == "食料品製造関連"
    assert ref.fields["monozukuri"].name == "ものづくり関連"
    assert ref.fields["it"].name == "IT（情報技術）関連"


def test_field_keywords_are_rich_and_unshared(ref):
    seen: dict[str, str] = {}
    for field in ref.fields.values():
        assert len(field.keywords) >= 20, field.id
        assert field.description
        for word in field.keywords:
            assert word == word.strip() and word, (field.id, word)
            assert seen.setdefault(word, field.id) == field.id, f"{word} is in two fields"


# --- institutions ---------------------------------------------------------------------------------


def test_five_support_institutions(ref):
    support = {i.id for i in ref.institutions.values() if i.kind == "support"}
    assert support == {"hro", "noastec", "hsc", "hokuyo", "dogin"}
    for inst_id in support:
        inst = ref.institutions[inst_id]
        assert inst.address and inst.representative and inst.role, inst_id
        assert inst.city == "札幌市" and inst.area == [ALL_HOKKAIDO]
        assert not any(ch.isspace() and ch != " " for ch in inst.address)
        assert not any(f"{a} {b}" in inst.address for a in "0123456789" for b in "0123456789")


def test_representative_body_is_hro_with_the_centre(ref):
    reps = [i for i in ref.institutions.values() if i.representative_body]
    assert [i.id for i in reps] == ["hro"]
    assert reps[0].one_stop_window == "産業技術研究本部ものづくり支援センター"


def test_fifteen_network_participants(ref):
    members = {i.id for i in ref.institutions.values() if i.network_member}
    assert len(members) == 15
    assert members == set(EXPECTED_AREAS)
    assert sum(1 for i in ref.institutions.values() if i.kind == "network") == 11
    assert not ref.institutions["hokuyo"].network_member
    assert not ref.institutions["dogin"].network_member


def test_network_areas(ref):
    for inst_id, expected in EXPECTED_AREAS.items():
        inst = ref.institutions[inst_id]
        for area in inst.area:
            assert area in SUBPREFECTURES or area == ALL_HOKKAIDO or area in ref.municipalities, (inst_id, area)
        assert inst.area == expected, inst_id


def test_network_bodies_have_fields_keywords_and_a_city(ref):
    for inst in ref.institutions.values():
        if inst.kind == "network":
            assert inst.fields and inst.keywords and inst.competences, inst.id
            assert inst.city in ref.municipalities, inst.id


def test_institution_cities_are_municipalities(ref):
    for inst in ref.institutions.values():
        assert inst.city is None or inst.city in ref.municipalities, inst.id


def test_life_science_only_outside_hokkaido(ref):
    for inst in ref.institutions.values():
        if "life_science" in inst.competences or "advanced_electronics" in inst.competences:
            assert inst.kind == "external", inst.id


def test_corrected_names(ref):
    names = {i.name for i in ref.institutions.values()}
    assert "公益財団法人オホーツク地域振興機構" in names
    assert "公益財団法人とかち財団" in names
    assert ref.institutions["noastec"].representative == "理事長 髙橋 賢友"
    assert ref.institutions["hro"].address.startswith("北海道札幌市北区北19条西11丁目")


def test_institution_ids_unique():
    import yaml

    from kitamono.reference import shipped_data_dir

    for filename, key, id_key in (
        ("fields.yaml", "fields", "id"),
        ("institutions.yaml", "institutions", "id"),
        ("basic_plans.yaml", "plans", "id"),
        ("municipalities.yaml", "municipalities", "code"),
    ):
        records = yaml.safe_load((shipped_data_dir() / filename).read_text(encoding="utf-8"))[key]
        ids = [r[id_key] for r in records]
        assert len(ids) == len(set(ids)), filename
        if key == "municipalities":
            names = [r["name"] for r in records]
            assert len(names) == len(set(names))


# --- basic plans ----------------------------------------------------------------------------------


def test_summary(ref):
    s = ref.plan_summary
    assert (s.agreed_total, s.municipalities_total) == (28, 32)
    assert s.agreed_total - s.unnamed == len(ref.plans) == 24
    assert str(s.as_of) == "2017-12-22"


def test_twenty_four_plans_thirty_pairs(ref):
    assert len(ref.plans) == 24
    assert sum(len(p.municipalities) for p in ref.plans.values()) == 30
    dates = Counter(str(p.agreed_on) for p in ref.plans.values())
    assert dates == {"2017-09-29": 9, "2017-12-22": 15}


def test_plans_per_field(ref):
    counts = Counter(f for p in ref.plans.values() for f in p.fields)
    assert counts == {"food": 19, "monozukuri": 16, "it": 9}


def test_plans_follow_the_counting_rule(ref):
    """food: 食料品/食品; ものづくり: ものづくり (+家具等製造分野); IT: IT (+IoT lines of two plans)."""
    for plan in ref.plans.values():
        for strategy in plan.strategies:
            text = strategy.text
            assert strategy.fields == [f for f in FIELD_IDS if f in strategy.fields]
            assert ("food" in strategy.fields) == ("食料品" in text or "食品" in text), text
            if "ものづくり" in text:
                assert "monozukuri" in strategy.fields, text
            if "IT" in text:
                assert "it" in strategy.fields, text
            assert " " not in text and "\u3000" not in text, text


def test_plan_order_and_asahikawa_has_two(ref):
    plans = list(ref.plans.values())
    assert plans[0].municipalities == ["札幌市"]
    assert plans[8].municipalities == ["芽室町"]
    assert plans[9].municipalities == ["旭川市"]
    assert plans[-1].municipalities == ["中札内村"]
    assert len(ref.plans_for("旭川市")) == 2
    for block in (plans[:9], plans[9:]):
        codes = [ref.municipalities[p.municipalities[0]].code for p in block]
        assert codes == sorted(codes)


def test_plan_municipalities_resolve(ref):
    for plan in ref.plans.values():
        for name in plan.municipalities:
            assert name in ref.municipalities, (plan.id, name)


# --- municipalities -------------------------------------------------------------------------------


def test_179_municipalities(ref):
    assert len(ref.municipalities) == 179
    kinds = Counter(m.kind for m in ref.municipalities.values())
    assert kinds == {"市": 35, "町": 129, "村": 15}


def test_municipalities_per_subprefecture(ref):
    counts = Counter(m.subprefecture for m in ref.municipalities.values())
    assert counts == SUBPREFECTURE_COUNTS
    assert set(counts) == set(SUBPREFECTURES)


def test_check_digits(ref):
    for m in ref.municipalities.values():
        assert len(m.code) == 6 and m.code.startswith("01"), m.code
        assert int(m.code[5]) == check_digit(m.code), m.code
        assert m.name.endswith(m.kind)
    assert ref.municipalities["札幌市"].code == "011002"
    assert ref.municipalities["函館市"].code == "012025"


def test_municipalities_in_code_order(ref):
    codes = [m.code for m in ref.municipalities.values()]
    assert codes == sorted(codes)


# --- targets --------------------------------------------------------------------------------------


def test_targets(ref):
    targets = ref.targets
    assert [p.total for p in targets.periods] == [10, 20, 30, 30, 30]
    assert sum(p.total for p in targets.periods) == targets.total == 120
    assert all(p.new == 10 for p in targets.periods)
    assert targets.follow_up_periods == 3
    assert targets.periods[0].fiscal_years == [2017, 2018]
    assert [y for p in targets.periods for y in p.fiscal_years] == list(range(2017, 2023))
