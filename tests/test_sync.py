"""Working together over real git: a bare repository as the shared remote and clones around it.

Every test builds the network it needs in ``tmp_path``: the センター (hro) makes the repository
and pushes it; the other institutions (北洋銀行 hokuyo, とかち財団 tokachi) clone it and run
``kitamono init --institution``. Commands run in-process through the real CLI; git runs for real,
and so does the merge driver (git starts it as ``python -m kitamono merge-driver``).

The センター's first step is the same in every test (``init``, ``git remote add``, the first
``sync`` that pushes it), so it is made once per test process and each test gets a copy of both
the remote and the センター's folder, the copy's ``origin`` pointed at the copied remote.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import snapshot

EDITOR = """\
import json, os, sys, yaml
path = sys.argv[1]
with open(path, encoding="utf-8") as handle:
    data = yaml.safe_load(handle)
for key, value in json.loads(os.environ["KITAMONO_TEST_EDIT"]).items():
    *parents, last = key.split(".")
    target = data
    for part in parents:
        target = target[part]
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value
with open(path, "w", encoding="utf-8") as handle:
    yaml.safe_dump(data, handle, allow_unicode=True, sort_keys=False)
"""


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def cases_in(clone: Path) -> dict[str, dict]:
    """Every case file of a clone, parsed: id → data."""
    found: dict[str, dict] = {}
    for path in sorted((clone / "cases").rglob("*.yaml")):
        assert path.stem not in found, f"{path.stem} twice"
        found[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


def case_path(clone: Path, case_id: str) -> Path:
    return clone / "cases" / case_id.split("-")[1] / f"{case_id}.yaml"


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env) -> Path:
    """git isolated from this machine's settings, with a known person committing."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "道総研 太郎")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "taro@example.org")
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR, encoding="utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    return config


@pytest.fixture(autouse=True)
def _command_built_once() -> None:
    """Nothing to do any more: conftest's runner builds the command once per test process.

    Kept under its name because other test modules import it with the fixtures below.
    """


@pytest.fixture
def as_person(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def switch(name: str) -> None:
        for who in ("AUTHOR", "COMMITTER"):
            monkeypatch.setenv(f"GIT_{who}_NAME", name)

    return switch


class Network:
    def __init__(self, tmp_path: Path, run, first: Path | None = None) -> None:
        """``first``: a folder holding ``remote.git`` and ``center`` as ``center()`` left them in
        another network, copied by ``center()`` instead of making them again."""
        self.tmp_path, self.run, self.first = tmp_path, run, first
        self.remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(self.remote))

    def center(self, name: str = "center") -> Path:
        """The センター makes the repository and pushes it to the remote."""
        path = self.tmp_path / name
        if self.first is not None and not git(self.remote, "for-each-ref"):  # a remote still empty
            shutil.rmtree(self.remote)
            shutil.copytree(self.first / "remote.git", self.remote, symlinks=True)
            shutil.copytree(self.first / "center", path, symlinks=True)
            for stale in ("index.pickle", "index-delta.pickle"):  # made of the first folder's files
                (path / ".kitamono" / stale).unlink(missing_ok=True)
            git(path, "remote", "set-url", "origin", str(self.remote))
            return path
        ok(self.run("init", path, "--institution", "hro"))
        git(path, "remote", "add", "origin", str(self.remote))
        ok(self.sync(path))
        return path

    def clone(self, name: str, institution: str) -> Path:
        path = self.tmp_path / name
        git(self.tmp_path, "clone", "-q", str(self.remote), str(path))
        ok(self.run("init", path, "--institution", institution))
        return path

    def sync(self, clone: Path, *options: str):
        return self.run("--repo", clone, "sync", *options)

    def new(self, clone: Path, company: str, **options: str) -> str:
        args = ["--repo", clone, "case", "new", "--no-input", "--company", company, "--municipality", "帯広市",
                "--title", "殺菌工程の見直し", "--received-on", "2026-10-01", "--channel", "visit", "--field", "food"]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", value]
        return ok(self.run(*args)).stdout.strip()

    def edit(self, clone: Path, case_id: str, changes: dict, monkeypatch: pytest.MonkeyPatch):
        monkeypatch.setenv("KITAMONO_TEST_EDIT", json.dumps(changes, ensure_ascii=False))
        return self.run("--repo", clone, "case", "edit", case_id)

    def remote_head(self) -> str:
        return git(self.remote, "rev-parse", "main").strip()

    def remote_case(self, case_id: str) -> dict | None:
        path = f"cases/{case_id.split('-')[1]}/{case_id}.yaml"
        result = subprocess.run(["git", "-C", str(self.remote), "show", f"main:{path}"], capture_output=True, text=True)
        return yaml.safe_load(result.stdout) if result.returncode == 0 else None


@pytest.fixture
def network(tmp_path: Path, git_env, run, _first_center) -> Network:
    return Network(tmp_path, run, _first_center)


def arrived(result) -> dict[str, set[str]]:
    """The JSON list ``sync --format json`` prints, as change kind → ids."""
    kinds: dict[str, set[str]] = {}
    for item in json.loads(result.stdout):
        kinds.setdefault(item["change"], set()).add(item["id"])
    return kinds


# --- the done-when runs ---------------------------------------------------------------------------


@pytest.mark.heavy
def test_three_clones_log_100_cases_each_offline_and_all_end_with_all_300(network, run):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    region = network.clone("region", "tokachi")
    written: dict[str, str] = {}  # id → company name, as each clone wrote it
    texts: dict[str, str] = {}  # id → the file as its clone wrote it
    for clone, institution in ((center, "hro"), (bank, "hokuyo"), (region, "tokachi")):
        for number in range(1, 101):
            company = f"株式会社{institution}相談{number:03d}"
            case_id = network.new(clone, company)
            assert case_id == f"{institution}-2026-{number:04d}"
            written[case_id] = company
            texts[case_id] = case_path(clone, case_id).read_text(encoding="utf-8")
    assert len(written) == 300

    ids = {inst: {i for i in written if i.startswith(inst + "-")} for inst in ("hro", "hokuyo", "tokachi")}
    assert arrived(ok(network.sync(center, "--format", "json"))) == {}
    assert arrived(ok(network.sync(bank, "--format", "json"))) == {"added": ids["hro"]}
    assert arrived(ok(network.sync(region, "--format", "json"))) == {"added": ids["hro"] | ids["hokuyo"]}
    assert arrived(ok(network.sync(center, "--format", "json"))) == {"added": ids["hokuyo"] | ids["tokachi"]}
    assert arrived(ok(network.sync(bank, "--format", "json"))) == {"added": ids["tokachi"]}

    for clone in (center, bank, region):
        held = cases_in(clone)
        assert set(held) == set(written)  # all 300, each once (cases_in refuses a repeated id)
        assert {case_id: data["company"]["name"] for case_id, data in held.items()} == written
        assert sum(len(data["events"]) for data in held.values()) == 300
        assert all(data["events"][0]["by"] == data["received_by"] == data["id"].split("-")[0] for data in held.values())
        assert {i: case_path(clone, i).read_text(encoding="utf-8") for i in held} == texts  # every field, as written
        result = run("--repo", clone, "check")
        assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    on_remote = git(network.remote, "ls-tree", "-r", "--name-only", "main", "--", "cases").split()
    assert sorted(p.rsplit("/", 1)[1][:-5] for p in on_remote if p.endswith(".yaml")) == sorted(written)
    subjects = git(center, "log", "--format=%s%n%b", "--no-merges").splitlines()
    assert "kitamono sync (hokuyo): 案件 100件 hokuyo-2026-0001, hokuyo-2026-0002, hokuyo-2026-0003, …" in subjects
    assert "新規: tokachi-2026-0100" in subjects and "Kitamono-Institution: tokachi" in subjects


def test_follow_ups_added_on_two_clones_are_both_kept_everywhere(network, run):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--with", "hokuyo", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))

    ok(run("--repo", center, "case", "follow-up", case_id, "--date", "2026-11-10", "--note", "工場を訪問"))
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05", "--note", "資金繰りを電話で確認"))
    ok(network.sync(center))
    assert arrived(ok(network.sync(bank, "--format", "json"))) == {"changed": {case_id}}
    assert arrived(ok(network.sync(center, "--format", "json"))) == {"changed": {case_id}}

    expected = [
        ("received", "2026-10-01", "hro", None),
        ("started", "2026-10-05", "hro", None),
        ("followed_up", "2026-11-05", "hokuyo", "資金繰りを電話で確認"),
        ("followed_up", "2026-11-10", "hro", "工場を訪問"),
    ]
    texts = set()
    for clone in (center, bank):
        data = cases_in(clone)[case_id]
        assert [(e["type"], str(e["date"]), e["by"], e.get("note")) for e in data["events"]] == expected
        assert "conflicts" not in data
        texts.add(case_path(clone, case_id).read_text(encoding="utf-8"))
        assert ok(run("--repo", clone, "check")).stderr == ""
    assert len(texts) == 1
    assert len(network.remote_case(case_id)["events"]) == 4


def test_a_company_name_changed_on_two_clones_stops_sync_until_resolved(network, run, monkeypatch):
    center = network.center()
    (center / "kitamono.yaml").write_text("auto_commit: true\n", encoding="utf-8")  # every command commits
    ok(network.sync(center))
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    ok(network.sync(bank))

    ok(network.edit(
        center, case_id, {"company.name": "十勝チーズ工房株式会社", "summary": "装置の選定も相談"}, monkeypatch
    ))  # fmt: skip
    ok(run("--repo", bank, "case", "refer", case_id, "--to", "tokachi", "--date", "2026-10-03"))
    ok(network.edit(bank, case_id, {"company.name": "有限会社十勝チーズ工房"}, monkeypatch))
    ok(network.sync(center))
    pushed = network.remote_head()

    for _attempt in range(2):  # stopped, and stays stopped while the conflict is there
        result = network.sync(bank)
        assert result.exit_code == 1
        assert (
            f"案件 {case_id}: 会社名 (company.name) が食い違っています。この複製は 有限会社十勝チーズ工房〔北洋銀行 "
        ) in result.stderr and "、他の複製は 十勝チーズ工房株式会社〔道総研 " in result.stderr
        assert f"kitamono conflicts で内容を確かめ、kitamono resolve {case_id} --take ours" in result.stderr
        assert "case edit" not in result.stderr
        assert network.remote_head() == pushed  # nothing pushed
    data = cases_in(bank)[case_id]  # still valid YAML, with the conflict recorded
    assert [{k: c[k] for k in ("field", "ours", "theirs")} for c in data["conflicts"]] == [
        {"field": "company.name", "ours": "有限会社十勝チーズ工房", "theirs": "十勝チーズ工房株式会社"}
    ]
    assert data["summary"] == "装置の選定も相談" and [e["type"] for e in data["events"]] == ["received", "referred"]
    checked = run("--repo", bank, "check")
    assert checked.exit_code == 1 and "未解決の競合: company.name" in checked.stdout
    shown = ok(run("--repo", bank, "case", "show", case_id, "--format", "plain")).stdout
    assert "未解決の競合" in shown and "有限会社十勝チーズ工房" in shown and "十勝チーズ工房株式会社" in shown

    still = network.edit(bank, case_id, {"company.name": "十勝チーズ工房株式会社"}, monkeypatch)
    assert still.exit_code == 1  # case edit refuses to keep an unresolved conflict
    resolved = ok(
        network.edit(bank, case_id, {"company.name": "十勝チーズ工房株式会社", "conflicts": None}, monkeypatch)
    )
    assert "マージの途中のため自動コミットしませんでした" in resolved.stderr  # sync finishes the merge
    ok(network.sync(bank))
    ok(network.sync(center))

    texts = set()
    for clone in (center, bank):
        data = cases_in(clone)[case_id]
        assert data["company"] == {"name": "十勝チーズ工房株式会社", "municipality": "帯広市"}
        assert data["summary"] == "装置の選定も相談" and "conflicts" not in data
        assert [(e["type"], e["by"], e.get("to")) for e in data["events"]] == [
            ("received", "hro", None), ("referred", "hokuyo", "tokachi")
        ]
        assert ok(run("--repo", clone, "check")).stdout == ""
        texts.add(case_path(clone, case_id).read_text(encoding="utf-8"))
    assert len(texts) == 1
    assert network.remote_case(case_id)["company"]["name"] == "十勝チーズ工房株式会社"
    history = json.loads(ok(run("--repo", center, "log", case_id, "--format", "json")).stdout)
    chosen = [item for item in history if item["change"] == "chosen"]
    assert chosen == [{**chosen[0], "field": "company.name", "ours": "有限会社十勝チーズ工房",
                       "theirs": "十勝チーズ工房株式会社", "new": "十勝チーズ工房株式会社", "institution": "hokuyo"}]


def test_a_rejected_push_recovers_with_a_second_sync(network, run):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    bank_case = network.new(bank, "株式会社帯広精機")
    center_case = network.new(center, "株式会社十勝チーズ工房")
    # While the センター pushes, the bank pushes first: the remote moves on under it.
    hook = center / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nrm -f -- \"$0\"\n'{sys.executable}' -m kitamono --repo '{bank}' sync >/dev/null 2>&1\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    result = network.sync(center)
    assert result.exit_code == 1
    assert "origin への push が拒否されました" in result.stderr  # git's own reason follows, in git's words
    assert "その間に他の複製がリモートを更新しています。もう一度 kitamono sync を実行すると" in result.stderr
    assert network.remote_case(bank_case) is not None and network.remote_case(center_case) is None
    assert center_case in git(center, "log", "-1", "--format=%s")  # the local commit is kept

    assert arrived(ok(network.sync(center, "--format", "json"))) == {"added": {bank_case}}
    assert arrived(ok(network.sync(bank, "--format", "json"))) == {"added": {center_case}}
    for clone in (center, bank):
        held = cases_in(clone)
        assert set(held) == {bank_case, center_case}
        assert sum(len(d["events"]) for d in held.values()) == 2
        assert ok(run("--repo", clone, "check")).stdout == ""
    assert network.remote_case(center_case)["company"]["name"] == "株式会社十勝チーズ工房"


def test_a_remote_that_refuses_the_push_is_named_and_the_commit_kept(network, run):
    center = network.center()
    hook = network.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    case_id = network.new(center, "株式会社十勝チーズ工房")
    result = network.sync(center)
    assert result.exit_code == 1
    assert "共有リモート origin が push を受け付けませんでした" in result.stderr
    assert "main is protected" in result.stderr
    assert case_id in git(center, "log", "-1", "--format=%s") and network.remote_case(case_id) is None


# --- other ways sync meets the world ----------------------------------------------------------------


def test_one_id_minted_in_two_clones_of_one_institution_stops_sync_with_the_reason(network, run, tmp_path):
    center = network.center()
    second = network.clone("center2", "hro")  # the per-institution ids assume one clone per institution
    first_case = network.new(center, "株式会社十勝チーズ工房")
    assert network.new(second, "株式会社帯広精機") == first_case
    ok(network.sync(center))
    pushed = network.remote_head()
    result = network.sync(second)
    assert result.exit_code == 1
    assert f"案件ID {first_case} が2つの複製で別々の案件に使われています" in result.stderr
    assert network.remote_head() == pushed
    assert network.remote_case(first_case)["company"]["name"] == "株式会社十勝チーズ工房"


def test_a_case_deleted_on_one_side_and_changed_on_the_other_stays(network, run):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))
    case_path(center, case_id).unlink()
    ok(network.sync(center, "--allow-delete"))  # a deletion by hand is shared only when asked
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-01"))
    result = ok(network.sync(bank))
    assert f"案件 {case_id} は一方で削除され、もう一方で変更されていました" in result.stderr
    ok(network.sync(center))
    for clone in (center, bank):
        assert [e["type"] for e in cases_in(clone)[case_id]["events"]] == ["received", "started", "followed_up"]


def test_without_a_remote_sync_commits_nothing_and_says_what_to_do(tmp_path, git_env, run):
    alone = tmp_path / "alone"
    ok(run("init", alone, "--institution", "hro"))
    network = Network.__new__(Network)
    network.run = run
    case_id = network.new(alone, "株式会社十勝チーズ工房")
    before = subprocess.run(["git", "-C", str(alone), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True,
                            text=True).stdout  # fmt: skip
    result = run("--repo", alone, "sync")
    assert result.exit_code == 1
    assert "共有リモートが設定されていません" in result.stderr and "git remote add origin" in result.stderr
    assert "何もコミットしていません" in result.stderr and "コミット済み" not in result.stderr
    assert "Traceback" not in result.stderr
    after = subprocess.run(["git", "-C", str(alone), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True,
                           text=True).stdout  # fmt: skip
    assert after == before  # a refused sync leaves no commit behind
    assert f"?? cases/2026/{case_id}.yaml" in git(alone, "status", "--porcelain", "-uall")

    git(alone, "remote", "add", "origin", str(tmp_path / "remote.git"))
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    ok(run("--repo", alone, "sync"))
    message = git(alone, "log", "-1", "--format=%B")
    assert f"kitamono sync (hro): 案件 1件 {case_id}" in message and "Kitamono-Institution: hro" in message
    assert git(alone, "status", "--porcelain") == ""
    assert sorted(git(alone, "ls-files").split()) == [
        ".gitattributes", ".gitignore", "cases/.gitkeep", f"cases/2026/{case_id}.yaml", "kitamono.yaml"
    ]


def test_an_unreachable_remote_keeps_the_local_commit_and_a_later_sync_pushes(network, run, tmp_path):
    center = network.center()
    git(center, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    case_id = network.new(center, "株式会社十勝チーズ工房")
    result = network.sync(center)
    assert result.exit_code == 1
    assert "共有リモート origin に接続できません" in result.stderr and "もう一度 kitamono sync" in result.stderr
    assert case_id in git(center, "log", "-1", "--format=%s")
    git(center, "remote", "set-url", "origin", str(network.remote))
    ok(network.sync(center))
    assert network.remote_case(case_id)["company"]["name"] == "株式会社十勝チーズ工房"


def test_a_missing_git_identity_is_a_clear_message(network, monkeypatch, git_env):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{who}_NAME")
        monkeypatch.delenv(f"GIT_{who}_EMAIL")
    monkeypatch.delenv("EMAIL", raising=False)
    git_env.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tuseConfigOnly = true\n", encoding="utf-8")
    before = git(center, "rev-parse", "HEAD")
    result = network.sync(center)
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー: git のユーザー名とメールアドレスが設定されていません")
    assert "git config --global user.email" in result.stderr and "Traceback" not in result.stderr
    assert git(center, "rev-parse", "HEAD") == before and case_path(center, case_id).is_file()


def test_a_clone_without_the_driver_does_not_sync_until_it_is_registered(network, run):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))
    git(bank, "config", "--remove-section", "merge.kitamono")
    warned = run("--repo", bank, "check")
    assert warned.exit_code == 0 and "kitamono init --git-config" in warned.stderr
    ok(run("--repo", center, "case", "follow-up", case_id, "--date", "2026-11-10"))
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05"))
    ok(network.sync(center))
    head = git(bank, "rev-parse", "HEAD")
    refused = network.sync(bank)  # a line-by-line merge would put conflict markers in the case
    assert refused.exit_code == 1 and "kitamono init --git-config" in refused.stderr
    assert git(bank, "rev-parse", "HEAD") == head
    ok(run("init", bank, "--git-config"))
    ok(network.sync(bank))
    ok(network.sync(center))
    for clone in (center, bank):
        assert [(e["type"], str(e["date"])) for e in cases_in(clone)[case_id]["events"]] == [
            ("received", "2026-10-01"), ("started", "2026-10-05"),
            ("followed_up", "2026-11-05"), ("followed_up", "2026-11-10"),
        ]


def test_an_unreadable_case_file_is_never_committed_or_pushed(network, run):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    pushed = network.remote_head()
    path = case_path(center, case_id)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("title: 殺菌工程の見直し", "title: [閉じていない"), encoding="utf-8")
    result = network.sync(center)
    assert result.exit_code == 1
    assert f"cases/2026/{case_id}.yaml: 8行目: 「[」が閉じられていません" in result.stderr
    assert f"読めない案件ファイルがあるため同期を止めました(push していません): {case_id}" in result.stderr
    assert network.remote_head() == pushed and git(center, "status", "--porcelain").startswith(" M")
    path.write_text(good.replace("title: 殺菌工程の見直し", "title: 殺菌工程と検査の見直し"), encoding="utf-8")
    ok(network.sync(center))
    assert network.remote_case(case_id)["title"] == "殺菌工程と検査の見直し"


# --- setting up a clone ---------------------------------------------------------------------------------


def test_init_in_a_fresh_clone_sets_the_institution_and_driver_without_touching_shared_files(network, run, tmp_path):
    network.center()
    clone = tmp_path / "bank"
    git(tmp_path, "clone", "-q", str(network.remote), str(clone))
    shared_before = snapshot(clone)
    assert run("--repo", clone, "check").stderr.count("kitamono init --git-config") == 1  # no driver yet
    result = ok(run("init", clone, "--institution", "北洋銀行"))
    assert "この複製の機関を hokuyo に設定しました" in result.stderr
    assert {k: v for k, v in snapshot(clone).items() if not k.startswith(".kitamono")} == shared_before
    assert git(clone, "status", "--porcelain") == ""
    driver = git(clone, "config", "--get", "merge.kitamono.driver").strip()
    assert driver.endswith("-m kitamono merge-driver %O %A %B %P") and sys.executable in driver
    assert yaml.safe_load((clone / ".kitamono" / "local.yaml").read_text(encoding="utf-8")) == {"institution": "hokuyo"}
    assert git(clone, "check-attr", "merge", "--", "cases/2026/hro-2026-0001.yaml").strip().endswith(": kitamono")
    assert ok(run("--repo", clone, "check")).stderr == ""

    git(clone, "config", "--unset", "merge.kitamono.driver")
    assert "kitamono init --git-config" in run("--repo", clone, "check").stderr
    assert "git にマージドライバを登録しました" in ok(run("init", clone, "--git-config")).stderr
    assert git(clone, "status", "--porcelain") == ""
    assert ok(run("--repo", clone, "check")).stderr == ""


def test_a_new_repository_commits_its_merge_rule(tmp_path, git_env, run):
    path = tmp_path / "new"
    ok(run("init", path))
    assert (path / ".gitattributes").read_text(encoding="utf-8") == "cases/**/*.yaml merge=kitamono\n"
    assert "merge-driver" in git(path, "config", "--get", "merge.kitamono.driver")
    assert (path / ".gitignore").read_text(encoding="utf-8") == ".kitamono/\n*.tmp\n"


# --- attribution: auto_commit and the log ------------------------------------------------------------


def test_auto_commit_makes_one_commit_per_command_with_only_the_case(tmp_path, git_env, run, monkeypatch):
    path = tmp_path / "repo"
    ok(run("init", path, "--institution", "hro"))
    (path / "kitamono.yaml").write_text("auto_commit: true\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "start")
    (path / "memo.txt").write_text("下書き\n", encoding="utf-8")
    git(path, "add", "memo.txt")  # staged by the user: not kitamono's to commit

    argv = ["kitamono", "--repo", str(path), "case", "new", "--no-input", "--company", "株式会社十勝チーズ工房",
            "--municipality", "帯広市", "--title", "殺菌工程", "--received-on", "2026-10-01", "--channel", "visit",
            "--field", "food", "--contact-phone", "0155-00-0000"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    case_id = ok(run(*argv[1:])).stdout.strip()
    message = git(path, "log", "-1", "--format=%B")
    assert message.startswith(f"kitamono case new (hro): {case_id}\n")
    assert "--contact-phone …" in message and "0155" not in message and "Kitamono-Institution: hro" in message
    assert git(path, "show", "--name-only", "--format=", "HEAD").split() == [f"cases/2026/{case_id}.yaml"]
    assert git(path, "diff", "--cached", "--name-only").split() == ["memo.txt"]

    argv = ["kitamono", "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"]
    monkeypatch.setattr(sys, "argv", argv)
    ok(run("--repo", path, *argv[1:]))
    assert git(path, "log", "-1", "--format=%s").strip() == f"kitamono case start {case_id} (hro)"
    assert git(path, "rev-list", "--count", "HEAD").strip() == "3"
    assert git(path, "status", "--porcelain").splitlines() == ["A  memo.txt"]


def test_log_says_who_recorded_what_and_when(network, run, monkeypatch, as_person):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    other = network.new(center, "株式会社帯広精機")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))
    as_person("北洋 花子")
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05", "--note", "電話で確認"))
    ok(network.edit(bank, case_id, {"title": "殺菌工程と検査の見直し"}, monkeypatch))
    ok(network.sync(bank))

    entries = json.loads(ok(run("--repo", bank, "log", case_id, "--format", "json")).stdout)
    assert [(e["author"], e["institution"], e["change"]) for e in entries] == [
        ("道総研 太郎", "hro", "created"), ("道総研 太郎", "hro", "event"),
        ("北洋 花子", "hokuyo", "event"), ("北洋 花子", "hokuyo", "field"),
    ]
    assert entries[2]["event"] == {"type": "followed_up", "date": "2026-11-05", "by": "hokuyo", "note": "電話で確認"}
    assert entries[3]["field"] == "title" and entries[3]["new"] == "殺菌工程と検査の見直し"
    assert set(entries[0]) == {"commit", "date", "author", "institution", "case", "change", "description", "event"}

    plain = ok(run("--repo", bank, "log", case_id, "--format", "plain")).stdout
    assert "北洋 花子" in plain and "フォローアップを記録(2026-11-05、北洋銀行): 電話で確認" in plain
    assert "件名を変更: 殺菌工程の見直し → 殺菌工程と検査の見直し" in plain
    everything = json.loads(ok(run("--repo", bank, "log", "--format", "json")).stdout)
    assert {e["case"] for e in everything} == {case_id, other} and len(everything) == 5
    csv_lines = ok(run("--repo", bank, "log", case_id, "--format", "csv")).stdout.splitlines()
    assert len(csv_lines) == 1 + 4

    network.new(bank, "株式会社釧路水産")
    pending = ok(run("--repo", bank, "log", "--format", "json"))
    assert "まだコミットしていない変更があります(1件: hokuyo-2026-0001)" in pending.stderr
    unknown = run("--repo", bank, "log", "hro-2026-0999")
    assert unknown.exit_code == 1 and "案件「hro-2026-0999」はありません" in unknown.stderr
