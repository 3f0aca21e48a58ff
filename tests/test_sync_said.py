"""What a sync did, said the same way by ``kitamono sync`` and by the web's 同期 page.

Each outcome is set up on real git (a bare remote and clones, as the sync tests make them), then
the clone and its remote are copied: the command line syncs the one, the page's button the other.
Both must say the lines worked out here by hand, in the same order; they differ only where a page
must (a conflict is settled on the case's page, not with ``kitamono resolve``).
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from test_sync import case_path, git, git_env, network, ok  # noqa: F401  (a bare remote and clones)
from test_web import client_of, post, text

DONE = "origin に push しました。同期は完了です"
NOTHING_ARRIVED = "他の複製から届いた案件・更新された案件はありません"


def twin(clone: Path, remote: Path, where: Path) -> Path:
    """A copy of ``clone`` and of its remote, the copy's ``origin`` pointed at the copied remote
    (when ``origin`` was the remote): the same sync can run twice, once on each."""
    where.mkdir()
    shutil.copytree(clone, where / clone.name, symlinks=True)
    copy = where / clone.name
    if remote.exists():
        shutil.copytree(remote, where / remote.name, symlinks=True)
        if git(clone, "remote").split() and git(clone, "remote", "get-url", "origin").strip() == str(remote):
            git(copy, "remote", "set-url", "origin", str(where / remote.name))
    return copy


def page_lines(response) -> list[tuple[str, str]]:
    """The notices of the 同期 page, in order: (kind, text)."""
    body = text(response).split("<h1>", 1)[1]
    return [(kind, html.unescape(said)) for kind, said in re.findall(r'<p class="flash (\w+)" role="status">(.*?)</p>',
                                                                    body)]  # fmt: skip


def both(network, clone: Path, tmp_path: Path):
    """Sync ``clone`` with the command line and its twin with the page's button."""
    from kitamono.web import create_app

    other = twin(clone, network.remote, tmp_path / "twin")
    said = network.sync(clone)
    client = client_of(create_app(other))
    return said, post(client, "/sync", {})


def command_lines(result) -> list[tuple[str, str]]:
    """stderr as (kind, text): 注意: is a warning, エラー: the failure; the rest is printed as it is,
    read here as info (the command line shows the lines that explain a failure plainly)."""
    found = []
    for line in result.stderr.splitlines():
        for prefix, kind in (("注意: ", "warning"), ("エラー: ", "error")):
            if line.startswith(prefix):
                found.append((kind, line.removeprefix(prefix)))
                break
        else:
            found.append(("info", line))
    return found


def test_a_sync_that_brings_and_pushes_says_the_same_lines_on_both(network, run, tmp_path):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    network.new(bank, "株式会社帯広製麺")
    said, page = both(network, bank, tmp_path)
    expected = [
        "hokuyo の変更をコミットしました(案件 1件)",
        "届いた案件: 新着 1件、更新 0件、削除 0件",
        DONE,
    ]
    assert said.exit_code == 0 and said.stderr.splitlines() == expected
    assert page.status_code == 200 and page_lines(page) == [("info", line) for line in expected]
    assert "株式会社十勝チーズ工房" in said.stdout  # the arrivals, listed by both, with company and title
    listed = text(page).split('id="sync-state"')[0]
    assert "hro-2026-0001" in listed and "株式会社十勝チーズ工房" in listed


def test_a_sync_with_nothing_new_says_so_on_both(network, run, tmp_path):
    center = network.center()
    said, page = both(network, center, tmp_path)
    expected = [NOTHING_ARRIVED, DONE]  # nothing new, and the branch pushed as it is
    assert said.exit_code == 0 and said.stderr.splitlines() == expected
    assert page.status_code == 200 and page_lines(page) == [("info", line) for line in expected]


def test_a_sync_without_a_remote_fails_with_the_same_words_on_both(network, run, tmp_path):
    center = network.center()
    git(center, "remote", "remove", "origin")
    said, page = both(network, center, tmp_path)
    assert said.exit_code == 1 and page.status_code == 400
    assert command_lines(said) == page_lines(page)
    ((kind, line),) = page_lines(page)
    assert kind == "error" and "共有リモートが設定されていません" in line


def test_an_unreachable_remote_is_said_the_same_on_both(network, run, tmp_path):
    center = network.center()
    git(center, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    network.new(center, "株式会社十勝チーズ工房")
    said, page = both(network, center, tmp_path)
    assert said.exit_code == 1 and page.status_code == 400
    assert command_lines(said) == page_lines(page)
    assert [kind for kind, _ in page_lines(page)] == ["info", "error"]
    assert page_lines(page)[0][1] == "hro の変更をコミットしました(案件 1件)"
    assert "共有リモート origin に接続できません" in page_lines(page)[1][1]


def test_a_failing_check_lists_its_problems_the_same_on_both(network, run, tmp_path):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    path = case_path(center, case_id)
    path.write_text(path.read_text(encoding="utf-8").replace("帯広市", "十勝市"), encoding="utf-8")
    said, page = both(network, center, tmp_path)
    assert said.exit_code == 1 and page.status_code == 400
    lines = page_lines(page)
    assert [said for _, said in command_lines(said)] == [said for _, said in lines]
    assert lines[0] == ("info", NOTHING_ARRIVED)
    assert lines[1][0] == "error" and case_id in lines[1][1] and "十勝市" in lines[1][1]
    assert lines[-1][0] == "error" and "検査" in lines[-1][1]


def test_a_case_deleted_by_hand_stops_both_with_the_same_words(network, run, tmp_path):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    case_path(center, case_id).unlink()
    said, page = both(network, center, tmp_path)
    assert said.exit_code == 1 and page.status_code == 400
    assert command_lines(said) == page_lines(page)
    ((kind, line),) = page_lines(page)
    assert kind == "error" and f"cases/2026/{case_id}.yaml" in line


def test_a_conflict_is_told_the_same_and_only_the_way_to_settle_it_differs(network, run, tmp_path, monkeypatch):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    ok(network.sync(bank))
    ok(network.edit(center, case_id, {"company.name": "十勝チーズ工房株式会社"}, monkeypatch))
    ok(network.edit(bank, case_id, {"company.name": "有限会社十勝チーズ工房"}, monkeypatch))
    ok(network.sync(center))
    assert network.sync(bank).exit_code == 1  # the conflict is now recorded in the bank's case
    said, page = both(network, bank, tmp_path)
    assert said.exit_code == 1 and page.status_code == 400
    command, shown = command_lines(said), page_lines(page)
    assert len(command) == len(shown) == 2
    assert command[0] == ("info", shown[0][1]) and shown[0][0] == "error"  # the conflict, both sides named
    assert f"案件 {case_id}: 会社名 (company.name) が食い違っています" in shown[0][1]
    assert command[1][0] == "error" and f"kitamono resolve {case_id} --take ours" in command[1][1]
    assert shown[1] == ("error", "競合している案件があるため、同期を止めました。案件のページで競合している項目ごとに"
                                 "値を選んで解決してから、もう一度同期してください")  # fmt: skip


@pytest.mark.parametrize("page", [False, True])
def test_every_surface_says_what_sync_said_words(network, run, tmp_path, monkeypatch, page):
    """The lines shown are ``sync_said``'s, whichever surface asks."""
    import kitamono.reports.syncing as syncing

    told = []
    real = syncing.sync_said

    def spy(result, ref, **kw):
        told.append(real(result, ref, **kw))
        return told[-1]

    monkeypatch.setattr(syncing, "sync_said", spy)
    center = network.center()
    network.new(center, "株式会社十勝チーズ工房")
    if page:
        from kitamono.web import create_app

        shown = page_lines(post(client_of(create_app(center)), "/sync", {}))
    else:
        shown = command_lines(ok(network.sync(center)))
    (said,) = told
    assert shown == [(line.kind, line.text) for line in said.lines]
    assert said.failure is None and [line.text for line in said.lines][-1] == DONE
