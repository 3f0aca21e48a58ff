"""The index: a cache that is always current, rebuilt when damaged, and never changes an answer."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kitamono import index
from kitamono.store import open_repository

INDEX = Path(".kitamono") / index.INDEX_NAME


def listed(run, *args: str) -> list[dict]:
    result = run("case", "list", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def garble_body(path: Path) -> None:
    """Overwrite an index file's body (the cases after its head) with junk of the same size."""
    content = path.read_bytes()
    chunks = index._Unpickler(io.BytesIO(content)).load()[-1]  # the head's table: (key, size)
    body_size = sum(size for _, size in chunks)
    path.write_bytes(content[:-body_size] + b"x" * body_size)


def age(path: Path, seconds: float = 10) -> None:
    """Make a file look written a while ago, so the index trusts it (the racy-clean rule)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def age_all(repo: Path) -> None:
    for path in (repo / "cases").rglob("*.yaml"):
        age(path, 60)


@pytest.fixture
def three(repo, new_case) -> list[str]:
    ids = [new_case(title=f"相談{n}", received_on=f"2019-05-{10 + n}") for n in range(3)]
    age_all(repo)
    return ids


def test_the_index_is_written_and_then_used(repo, run, three, monkeypatch):
    assert [c["id"] for c in listed(run)] == three
    assert (repo / INDEX).is_file()
    # With the index current, no case file is parsed again.
    parsed: list[str] = []
    original = index._parse
    monkeypatch.setattr(index, "_parse", lambda job: parsed.append(job[1]) or original(job))
    assert [c["id"] for c in listed(run)] == three
    assert parsed == []


def test_a_changed_file_is_seen_by_the_next_command(repo, run, three):
    listed(run)
    path = repo / "cases" / "2019" / f"{three[1]}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("相談1", "相談いち"), encoding="utf-8")
    age(path)  # even with an old modification time: the size changed
    assert [c["title"] for c in listed(run)] == ["相談0", "相談いち", "相談2"]


def test_a_same_size_change_within_the_racy_window_is_seen(repo, run, three):
    listed(run)
    path = repo / "cases" / "2019" / f"{three[0]}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("相談0", "相談9"), encoding="utf-8")  # same size, fresh mtime
    assert listed(run)[0]["title"] == "相談9"


def test_a_file_edited_a_moment_ago_is_trusted_on_a_fine_grained_clock(repo, run, three, monkeypatch):
    """Where file times have sub-second precision, the racy window is a tenth of a second."""
    listed(run)
    if (repo / INDEX).stat().st_mtime_ns % 1_000_000_000 == 0:
        pytest.skip("this file system keeps whole seconds: the two-second window applies")
    path = repo / "cases" / "2019" / f"{three[0]}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("相談0", "相談れい"), encoding="utf-8")
    age(path, 1)
    assert listed(run)[0]["title"] == "相談れい"  # read once, as it changed
    parsed: list[str] = []
    original = index._parse
    monkeypatch.setattr(index, "_parse", lambda job: parsed.append(job[1]) or original(job))
    assert listed(run)[0]["title"] == "相談れい"
    assert parsed == []  # a second old: not read again


def test_added_deleted_and_renamed_files_are_seen(repo, run, three, new_case):
    listed(run)
    (repo / "cases" / "2019" / f"{three[0]}.yaml").unlink()
    added = new_case(title="追加", received_on="2019-06-01")
    assert [c["id"] for c in listed(run)] == [three[1], three[2], added]
    moved = repo / "cases" / "old" / f"{three[2]}.yaml"
    moved.parent.mkdir()
    (repo / "cases" / "2019" / f"{three[2]}.yaml").rename(moved)
    age(moved, 60)
    assert [c["id"] for c in listed(run)] == [three[1], three[2], added]
    assert run("check").stdout == ""


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (b"not a pickle at all", "壊れて"),
        (b"", "壊れて"),
        (pickle.dumps(("0.0.0/0", 0, [])), "別の版"),
        (pickle.dumps(("x", 1)), "壊れて"),
        # A pickle that would run code if loaded with the ordinary unpickler.
        (b"cos\nsystem\n(S'echo pwned > pwned.txt'\ntR.", "壊れて"),
    ],
)
def test_a_damaged_or_foreign_index_is_rebuilt_with_a_note(repo, run, three, content, note, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    listed(run)
    (repo / INDEX).write_bytes(content)
    result = run("case", "list", "--format", "json")
    assert result.exit_code == 0
    assert [c["id"] for c in json.loads(result.stdout)] == three
    assert note in result.stderr and str(repo / INDEX) in result.stderr
    assert not (tmp_path / "pwned.txt").exists()
    again = run("case", "list", "--format", "json")
    assert again.stderr == ""  # rebuilt: no note the second time


def test_a_damaged_case_file_stays_named_while_the_index_is_warm(repo, run, three):
    listed(run)
    broken = repo / "cases" / "2019" / "hro-2019-0050.yaml"
    broken.write_text("id: [\n", encoding="utf-8")
    age(broken, 60)
    for _ in range(2):
        result = run("case", "list", "--format", "json")
        assert "hro-2019-0050.yaml" in result.stderr
        assert run("check").exit_code == 1


@pytest.mark.heavy
def test_two_commands_at_once_leave_a_usable_index(repo, three, env):
    environment = {**os.environ, "KITAMONO_REPO": str(repo)}
    command = [sys.executable, "-m", "kitamono", "case", "list", "--format", "json"]
    for _ in range(3):
        (repo / INDEX).unlink(missing_ok=True)
        processes = [
            subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)
        ]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert all(p.returncode == 0 for p in processes)
        assert all([c["id"] for c in json.loads(out)] == three for out, _ in outputs)
    notes: list[str] = []
    main = index._read_state(repo / INDEX, "main", notes)
    assert notes == [] and main is not None
    assert [path for path, _, _ in main.files] == sorted(f"cases/2019/{i}.yaml" for i in three)


# --- the index never changes an answer ---------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(["new", "edit", "delete", "start", "support", "list"]),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.heavy
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps)
def test_answers_are_the_same_with_and_without_the_index(make_repo, run, monkeypatch, plan):
    root = make_repo(f"prop-{abs(hash(tuple(plan)))}")
    monkeypatch.setenv("KITAMONO_REPO", str(root))
    created: list[str] = []
    for action, n in plan:
        if action == "new" or not created:
            result = run("case", "new", "--no-input", "--company", f"会社{n}", "--municipality", "帯広市",
                         "--title", f"件名{n}", "--channel", "phone",
                         "--received-on", f"2019-05-{1 + n % 28:02d}")  # fmt: skip
            created.append(result.stdout.strip())
            continue
        case_id = created[n % len(created)]
        path = next((root / "cases").rglob(f"{case_id}.yaml"), None)
        if path is None:
            continue
        if action == "edit":
            path.write_text(path.read_text(encoding="utf-8").replace("件名", "題"), encoding="utf-8")
        elif action == "delete":
            path.unlink()
        elif action == "start":
            run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01")
        elif action == "support":
            run("case", "support", case_id, "--date", "2019-07-01")
        answers = {}
        for mode in ("on", "off"):
            monkeypatch.setenv("KITAMONO_INDEX", mode)
            answers[mode] = (
                run("case", "list", "--format", "json").stdout,
                run("case", "list", "--status", "支援中", "--format", "json").stdout,
                run("check", "--format", "json").stdout,
                # Reports read only the cases the index's digests say can count: never fewer.
                run("case", "list", "--fy", "2019", "--format", "json").stdout,
                run("case", "list", "--fy", "2019", "--count").stdout,
                run("report", "quarterly", "--quarter", "2019Q1", "--format", "json").stdout,
                run("report", "quarterly", "--quarter", "2019Q2", "--as-of", "2019-06-30", "--format", "json").stdout,
                run("targets", "--format", "json").stdout,
                run("followups", "--all", "--format", "json").stdout,
            )
        monkeypatch.delenv("KITAMONO_INDEX")
        assert answers["on"] == answers["off"]


def test_records_hold_no_contact_details(repo, run, new_case):
    new_case(contact_name="山田太郎", contact_phone="0155-12-3456")
    listed(run)
    data = (repo / INDEX).read_bytes()
    assert "山田太郎".encode() not in data and b"0155-12-3456" not in data
    loaded = index.load_cases(open_repository(repo))
    assert loaded.cases[0].contact is None


def test_a_small_change_is_written_beside_the_index_and_a_bad_one_ignored(repo, run, three):
    listed(run)
    main_before = (repo / INDEX).read_bytes()
    delta = repo / ".kitamono" / index.DELTA_NAME
    path = repo / "cases" / "2019" / f"{three[2]}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("相談2", "相談ふたつめ"), encoding="utf-8")
    age(path)
    assert [c["title"] for c in listed(run)] == ["相談0", "相談1", "相談ふたつめ"]
    assert delta.is_file() and (repo / INDEX).read_bytes() == main_before
    (repo / "cases" / "2019" / f"{three[0]}.yaml").unlink()
    assert [c["title"] for c in listed(run)] == ["相談1", "相談ふたつめ"]
    delta.write_bytes(b"garbage")  # a damaged delta only costs a re-read of the changed files
    result = run("case", "list", "--format", "json")
    assert [c["title"] for c in json.loads(result.stdout)] == ["相談1", "相談ふたつめ"]


def test_the_reference_cache_follows_the_data_files(repo, run):
    """A repository's own data is seen at once, though the checked reference data is cached."""
    cache = repo / ".kitamono" / "reference.pickle"
    assert json.loads(run("plans", "--format", "json").stdout)["field_counts"]["food"] == 19
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    (repo / "data").mkdir()
    plan = repo / "data" / "basic_plans.yaml"
    plan.write_text(
        "plans:\n- id: kushiro_town\n  name: 釧路町\n  municipalities: [釧路町]\n  agreed_on: 2018-06-29\n"
        "  strategies:\n  - {text: 水産物を活用した食料品製造関連分野, fields: [food]}\n",
        encoding="utf-8",
    )
    age(plan, 60)
    for _ in range(2):  # built, then read from the cache
        assert json.loads(run("plans", "--format", "json").stdout)["field_counts"]["food"] == 20
    assert cache.is_file()
    plan.write_text(plan.read_text(encoding="utf-8").replace("[food]", "[monozukuri]"), encoding="utf-8")
    counts = json.loads(run("plans", "--format", "json").stdout)["field_counts"]
    assert (counts["food"], counts["monozukuri"]) == (19, 17)
    cache.write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # never run, only rebuilt
    assert json.loads(run("plans", "--format", "json").stdout)["field_counts"]["monozukuri"] == 17


def test_after_a_small_change_the_index_is_current_again(repo, run, three, monkeypatch):
    """A change written beside the main index leaves the next commands nothing to parse."""
    listed(run)
    path = repo / "cases" / "2019" / f"{three[1]}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("相談1", "相談その一"), encoding="utf-8")
    age(path)
    assert [c["title"] for c in listed(run)] == ["相談0", "相談その一", "相談2"]
    assert (repo / ".kitamono" / index.DELTA_NAME).is_file()
    parsed: list[str] = []
    original = index._parse
    monkeypatch.setattr(index, "_parse", lambda job: parsed.append(job[1]) or original(job))
    for _ in range(2):
        assert [c["title"] for c in listed(run)] == ["相談0", "相談その一", "相談2"]
        assert run("case", "list", "--count").stdout == "3\n"
    assert parsed == []
    # Counting reads the delta's head alone: the main index's cases are not even opened.
    garble_body(repo / INDEX)
    counted = run("case", "list", "--count")
    assert (counted.stdout, counted.stderr) == ("3\n", "")
    result = run("case", "list", "--format", "json")
    assert [c["title"] for c in json.loads(result.stdout)] == ["相談0", "相談その一", "相談2"]
    assert "壊れて" in result.stderr


def test_a_damaged_body_is_found_when_the_cases_are_read(repo, run, three):
    """The index's head (files, digests) is read first; its body only when cases are needed."""
    listed(run)
    garble_body(repo / INDEX)
    assert run("case", "list", "--count").stdout == "3\n"  # counting reads the head alone
    result = run("case", "list", "--format", "json")
    assert result.exit_code == 0
    assert [c["id"] for c in json.loads(result.stdout)] == three
    assert "壊れて" in result.stderr and str(repo / INDEX) in result.stderr
    assert run("case", "list", "--format", "json").stderr == ""  # rebuilt
    garble_body(repo / INDEX)
    checked = run("check")  # check reads every file, not the index, and writes the index anew
    assert (checked.exit_code, checked.stdout) == (0, "")
    assert run("case", "list", "--format", "json").stderr == ""


SETTINGS_CASES = [
    ("auto_commit: false\n", None),
    ("auto_commit: maybe\n", "auto_commit: true か false で指定してください"),
    ("auto_commit: 'true'\n", "auto_commit: true か false で指定してください"),
    ("data_dir: 12\n", "data_dir: 文字列で指定してください"),
    ("auto_comit: true\n", "知らない項目「auto_comit」があります"),
    ("- data_dir\n", "設定ファイルの形になっていません"),
    ("", None),
    ("data_dir: null\nauto_commit: true\n", None),
]


def test_the_settings_are_read_from_their_file_each_time(repo, run, new_case):
    """kitamono.yaml (a few lines) is read by its model whenever a command needs it, and nothing is
    kept of it: an edit, even a bad one, is seen at once, and a bad one is one line naming the key."""
    new_case()
    settings = repo / "kitamono.yaml"
    for text, problem in SETTINGS_CASES * 2:  # the same again: nothing read before is used instead
        settings.write_text(text, encoding="utf-8")
        result = run("targets", "--format", "json")
        if problem is None:
            assert (result.exit_code, result.stderr) == (0, ""), text
        else:
            assert (result.exit_code, result.stderr) == (1, f"エラー: {settings}: {problem}\n"), text
    assert not (repo / ".kitamono" / "settings.pickle").exists()


def test_the_reference_cache_is_used_while_the_data_is_unchanged(repo, run, monkeypatch):
    from kitamono import reference

    assert run("plans", "--format", "json").exit_code == 0  # checked and kept
    monkeypatch.setattr(reference, "_load_reference", lambda extra_dir=None: pytest.fail("read again"))
    assert json.loads(run("plans", "--format", "json").stdout)["field_counts"]["food"] == 19


def test_check_says_when_it_rebuilt_the_index(repo, run, three):
    assert run("check").stderr == ""
    (repo / INDEX).write_bytes(b"damaged")
    result = run("check")
    assert result.exit_code == 0 and result.stdout == ""
    assert "壊れて" in result.stderr
