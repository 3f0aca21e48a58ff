"""Case files on disk: byte-stable saving, a loader that refuses abuse, damaged files named, races."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import snapshot
from kitamono import caseio
from kitamono.caseio import case_text, load_case_file, parse_case_text
from kitamono.models import CASE_FIELDS, CHANNELS, COMPETENCES, STORED, Case, Company, Conflict, Contact, Event

# --- save → load is lossless and byte-stable ------------------------------------------------------

TRICKY = ["NO", "on", "yes", "~", "null", "0100", "012076", "2019-05-14", "1e3", "0x1F", "- a", "#x", ": x",
          "'quoted'", '"dq"', "a: b", "行1\n行2", "末尾の改行\n", " 前の空白", "tab\there", "絵文字🍣", ""]  # fmt: skip
text = st.one_of(st.sampled_from(TRICKY), st.text(min_size=0, max_size=30))
words = st.one_of(st.sampled_from([*TRICKY[:12], "帯広市", "株式会社十勝チーズ工房"]), st.text(min_size=1, max_size=20))
days = st.dates(min_value=date(2018, 4, 1), max_value=date(2026, 11, 28))
institutions = st.sampled_from(["hro", "noastec", "hsc", "hokuyo", "dogin", "tokachi"])


def stored(model, **values):
    """A record as a case file may hold it: a hand edit may have left any character in its text."""
    return model.model_validate(values, context=STORED)


@st.composite
def cases(draw) -> Case:
    received = draw(days)
    events = [stored(Event, type="received", date=received, by=draw(institutions), note=draw(st.none() | text))]
    for offset in sorted(draw(st.lists(st.integers(0, 900), max_size=6))):
        events.append(
            stored(
                Event,
                type=draw(st.sampled_from(["referred", "supported", "followed_up", "team_formed"])),
                date=received + timedelta(days=offset),
                by=draw(institutions),
                to=draw(st.none() | institutions),
                members=draw(st.lists(institutions, max_size=3)),
                note=draw(st.none() | text),
            )
        )
    return stored(
        Case,
        id=f"hro-{received.year}-{draw(st.integers(1, 99999)):04d}",
        demo=draw(st.booleans()),
        received_on=received,
        received_by=draw(institutions),
        channel=draw(st.sampled_from(CHANNELS)),
        company=stored(Company, name=draw(words), municipality=draw(words), bank=draw(st.none() | st.just("hokuyo"))),
        contact=draw(st.none() | st.builds(lambda **v: stored(Contact, **v), person=st.none() | words,
                                           phone=st.none() | words)),
        title=draw(words),
        summary=draw(text),
        field=draw(st.sampled_from(CASE_FIELDS)),
        needs=draw(st.lists(st.sampled_from(COMPETENCES), max_size=3, unique=True)),
        approved_project=draw(st.none() | days),
        events=events,
        conflicts=draw(st.lists(st.builds(lambda **v: stored(Conflict, **v), field=st.just("title"),
                                          ours=st.none() | words, theirs=words), max_size=1)),
    )


@pytest.mark.heavy
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_any_valid_case_survives_save_and_load_unchanged(case):
    written = case_text(case)
    loaded = Case.model_validate(parse_case_text(Path("x.yaml"), written), context=STORED)
    assert loaded == case
    assert case_text(loaded) == written


def test_tricky_strings_are_quoted_and_dates_are_not():
    case = Case(
        id="hro-2019-0001", received_on=date(2019, 5, 14), received_by="hro", channel="phone",
        company=Company(name="NO", municipality="012076"), title="on", summary="2019-05-14", field="other",
        events=[Event(type="received", date=date(2019, 5, 14), by="hro", note="0100")],
    )  # fmt: skip
    written = case_text(case)
    assert "received_on: 2019-05-14\n" in written
    assert "name: 'NO'" in written and "municipality: '012076'" in written
    assert "title: 'on'" in written and "summary: '2019-05-14'" in written and "note: '0100'" in written
    assert "&" not in written and "*" not in written


def test_multiline_text_uses_the_block_style():
    case = Case(
        id="hro-2019-0001", received_on=date(2019, 5, 14), received_by="hro", channel="phone",
        company=Company(name="株式会社サンプル", municipality="帯広市"), title="相談",
        summary="一行目\n二行目", field="other", events=[],
    )  # fmt: skip
    assert "summary: |-\n  一行目\n  二行目\n" in case_text(case)


def test_resaving_a_case_written_by_the_cli_changes_no_byte(repo, run, new_case):
    case_id = new_case(summary="複数行の\n相談内容")
    path = next((repo / "cases").rglob(f"{case_id}.yaml"))
    original = path.read_bytes()
    assert case_text(load_case_file(path)).encode() == original


# --- the loader refuses what could hurt -----------------------------------------------------------

ALIAS_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ALIAS_BOMB, "1行目: YAML のアンカー"),
        ("a: 1\nb: *x\n", "2行目: YAML の別名"),
        ("id: a\nid: b\n", "2行目: 項目「id」が2回"),
        ("a: !!python/object/apply:os.system ['true']\n", "python/object"),
    ],
)
def test_loader_refuses(text, expected):
    with pytest.raises(Exception) as raised:
        caseio.parse_yaml(text)
    assert expected in caseio.describe_error(raised.value) or expected in str(raised.value)


GOOD = """\
id: hro-2019-0001
received_on: 2019-05-14
received_by: hro
channel: visit
company:
  name: 株式会社サンプル
  municipality: 帯広市
title: 相談
field: food
events:
- type: received
  date: 2019-05-14
  by: hro
"""

DAMAGED = {
    "bomb": ALIAS_BOMB,
    "duplicate": GOOD + "title: 別の件名\n",
    "conflict": GOOD.replace("title: 相談\n", "<<<<<<< HEAD\ntitle: 相談\n=======\ntitle: 別\n>>>>>>> other\n"),
    "bad-date": GOOD.replace("received_on: 2019-05-14", "received_on: 2019-02-30"),
    "unknown-key": GOOD + "colour: red\n",
    "python-tag": GOOD + "x: !!python/name:os.system ''\n",
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_a_damaged_file_is_named_and_the_rest_still_listed(repo, run, new_case, kind):
    good = new_case()
    damaged = repo / "cases" / "2019" / "hro-2019-0900.yaml"
    damaged.write_text(DAMAGED[kind], encoding="utf-8")
    before = snapshot(repo)
    refused = run("case", "list", "--format", "json")  # a listing without the case is refused
    assert refused.exit_code == 1 and refused.stdout == "" and len(refused.stderr.splitlines()) == 1
    assert "cases/2019/hro-2019-0900.yaml" in refused.stderr and "kitamono check" in refused.stderr
    listed = run("case", "list", "--format", "json", "--allow-damaged")
    assert listed.exit_code == 0
    data = json.loads(listed.stdout)
    assert [c["id"] for c in data["rows"]] == [good]
    assert [f["path"] for f in data["problems"]["files"]] == ["cases/2019/hro-2019-0900.yaml"]
    checked = run("check")
    assert checked.exit_code == 1
    assert "cases/2019/hro-2019-0900.yaml" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr + listed.stderr
    assert snapshot(repo) == before


def test_check_is_silent_when_all_is_well(repo, run, new_case):
    case_id = new_case()
    run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01")
    result = run("check")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert json.loads(run("check", "--format", "json").stdout) == []


def test_check_finds_rule_breaks_written_by_hand(repo, run, new_case):
    case_id = new_case()
    path = repo / "cases" / "2019" / f"{case_id}.yaml"
    text = path.read_text(encoding="utf-8")
    text += (
        "- type: followed_up\n  date: 2019-04-01\n  by: hro\n"
        "- type: referred\n  date: 2019-06-01\n  by: hro\n  to: hro\n"
    )
    path.write_text(text, encoding="utf-8")
    (repo / "cases" / "2019" / "hro-2019-0077.yaml").write_text(text, encoding="utf-8")  # same id, other file
    result = run("check", "--format", "json")
    assert result.exit_code == 1
    messages = [p["message"] for p in json.loads(result.stdout)]
    assert any("受付日" in m for m in messages)  # 2019-04-01 is before the case was received
    assert any("支援開始" in m for m in messages)  # a follow-up before support started
    assert any("自身" in m for m in messages)  # a referral to the same institution
    assert any("ファイル名" in m for m in messages)  # hro-2019-0077.yaml holds hro-2019-0001
    assert any("重複" in m for m in messages)


# --- two processes creating cases at once ----------------------------------------------------------


@pytest.mark.heavy
def test_two_processes_creating_at_once_never_collide(repo, env):
    script = (
        "import sys\n"
        "from kitamono.cli import app\n"
        "for i in range(15):\n"
        "    try:\n"
        "        app(['case','new','--no-input','--company',f'会社{sys.argv[1]}-{i}','--municipality','帯広市',"
        "'--title','相談','--channel','phone','--received-on','2019-05-14'], standalone_mode=False)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
    )
    environment = {**os.environ, "KITAMONO_REPO": str(repo)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(n)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for n in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [o[1].decode() for o in outputs]
    ids = [line for out, _ in outputs for line in out.decode().split()]
    files = sorted(p.stem for p in (repo / "cases" / "2019").glob("*.yaml"))
    assert len(ids) == 45 and len(set(ids)) == 45
    assert sorted(ids) == files
    companies = {load_case_file(p).company.name for p in (repo / "cases" / "2019").glob("*.yaml")}
    assert len(companies) == 45  # no case overwrote another


# --- editing by hand -----------------------------------------------------------------------------


def _editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\n" + body, encoding="utf-8")
    return f"{sys.executable} {script}"


def test_edit_saves_a_valid_change(repo, run, new_case, tmp_path, monkeypatch):
    case_id = new_case()
    monkeypatch.setenv(
        "EDITOR",
        _editor(tmp_path, "p.write_text(p.read_text().replace('株式会社十勝チーズ工房', '株式会社とかちチーズ'))"),
    )
    result = run("case", "edit", case_id)
    assert result.exit_code == 0, result.stderr
    shown = json.loads(run("case", "show", case_id, "--format", "json").stdout)
    assert shown["company"]["name"] == "株式会社とかちチーズ"


@pytest.mark.parametrize(
    "change",
    [
        "p.write_text(p.read_text().replace('帯広市', '帯広'))",
        "p.write_text(p.read_text().replace('received_on: 2019-05-14', 'received_on: 2019-13-01'))",
        "p.write_text(p.read_text() + 'colour: red\\n')",
        "p.write_text(p.read_text().replace('id: hro-2019-0001', 'id: hro-2019-0002'))",
    ],
)
def test_edit_refuses_an_invalid_result_and_keeps_it_aside(repo, run, new_case, tmp_path, monkeypatch, change):
    case_id = new_case()
    path = repo / "cases" / "2019" / f"{case_id}.yaml"
    original = path.read_bytes()
    monkeypatch.setenv("EDITOR", _editor(tmp_path, change))
    result = run("case", "edit", case_id)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    kept = repo / ".kitamono" / "rejected" / f"{case_id}.yaml"
    assert str(kept) in result.stderr
    assert kept.read_bytes() != original
    assert path.read_bytes() == original


@pytest.fixture
def pure_python_yaml(monkeypatch):
    """caseio built on PyYAML's pure-Python loader and dumper, as where libyaml is missing."""
    import yaml

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    monkeypatch.delattr(yaml, "CSafeDumper", raising=False)
    caseio._yaml.cache_clear()
    assert caseio._yaml().base_loader is yaml.SafeLoader
    yield caseio
    monkeypatch.undo()
    caseio._yaml.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [(ALIAS_BOMB, "1行目: YAML のアンカー"), ("a: 1\nb: *x\n", "2行目: YAML の別名"),
     ("id: a\nid: b\n", "2行目: 項目「id」が2回"), ("a: !!python/object/apply:os.system ['true']\n", "python/object")],
)  # fmt: skip
def test_the_pure_python_loader_keeps_every_rule(pure_python_yaml, text, expected):
    with pytest.raises(Exception) as raised:
        pure_python_yaml.parse_yaml(text)
    assert expected in pure_python_yaml.describe_error(raised.value) or expected in str(raised.value)


EXPECTED_TEXT = """\
id: hro-2019-0001
received_on: 2019-05-14
received_by: hro
channel: phone
company:
  name: 'NO'
  municipality: '012076'
title: 'on'
summary: |-
  一行目
  二行目
field: other
events:
- type: received
  date: 2019-05-14
  by: hro
  note: '0100'
"""


def _tricky_case() -> Case:
    return Case(
        id="hro-2019-0001", received_on=date(2019, 5, 14), received_by="hro", channel="phone",
        company=Company(name="NO", municipality="012076"), title="on", summary="一行目\n二行目", field="other",
        events=[Event(type="received", date=date(2019, 5, 14), by="hro", note="0100")],
    )  # fmt: skip


def test_the_pure_python_dumper_writes_the_same_text(pure_python_yaml):
    assert pure_python_yaml.dump_yaml(_tricky_case().model_dump(mode="python", exclude_defaults=True)) == EXPECTED_TEXT


def test_the_c_dumper_writes_that_text_too():
    assert case_text(_tricky_case()) == EXPECTED_TEXT
