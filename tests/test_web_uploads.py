"""取り込み's kept uploads, through Flask's test client against a real repository: a 相談記録簿 sent
for its preview is kept in .kitamono/uploads/ only while a preview page may still import it (a
day), and goes at once when imported, cancelled, or not importable. Ages are set with os.utime.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from markupsafe import escape

from test_sync import git_env, network, ok  # noqa: F401
from test_web import get, post, text, web  # noqa: F401
from test_web_forms import LOG, _upload, cases

HOUR = 3600


def uploads(repo: Path) -> list[str]:
    folder = repo / ".kitamono" / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def previewed(client, content: str = LOG) -> str:
    """The token a ready preview offers for its 「取り込む」 button."""
    response = _upload(client, content)
    assert response.status_code == 200, text(response)
    return re.search(r'name="upload" value="([0-9a-f]+)"', text(response)).group(1)


def kept_hours_ago(repo: Path, token: str, hours: float) -> None:
    """Make an upload (its folder and its file) look as if it was kept ``hours`` ago."""
    stamp = time.time() - hours * HOUR
    folder = repo / ".kitamono" / "uploads" / token
    for path in [*folder.iterdir(), folder]:
        os.utime(path, (stamp, stamp))


def test_an_upload_never_confirmed_goes_a_day_later_and_one_still_offered_stays(web, repo):
    forgotten = previewed(web)
    kept_hours_ago(repo, forgotten, 25)  # previewed yesterday, never confirmed
    offered = previewed(web)  # a new upload removes the forgotten one
    assert uploads(repo) == [offered]
    expired = post(web, "/import", {"action": "confirm", "upload": forgotten})
    assert expired.status_code == 400
    assert escape("確かめたファイルが見つかりません") in text(expired)

    kept_hours_ago(repo, offered, 23)  # its preview page is still open, within the day
    newest = previewed(web)
    assert uploads(repo) == sorted([offered, newest])
    before = cases(repo)
    done = post(web, "/import", {"action": "confirm", "upload": offered, "maps": "", "ignored": ""})
    assert done.status_code == 303, text(done)
    assert len(cases(repo)) == len(before) + 2  # the preview offered for 23 hours still imports
    assert uploads(repo) == [newest]  # and is removed once imported


def test_a_cancelled_upload_is_removed_and_nothing_imported(web, repo):
    before = cases(repo)
    token = previewed(web)
    assert 'value="cancel"' in text(_upload(web, LOG))  # the preview offers to cancel
    cancelled = post(web, "/import", {"action": "cancel", "upload": token})
    assert cancelled.status_code == 303
    assert token not in uploads(repo) and cases(repo) == before
    assert "取り込みをやめました" in text(get(web, cancelled.headers["Location"]))


def test_a_preview_that_offers_no_import_keeps_no_file(web, repo):
    problem = _upload(web, LOG.replace("2019/06/01", "2019/13/01"))  # a row with an impossible date
    assert problem.status_code == 400 and 'name="upload"' not in text(problem)
    assert uploads(repo) == []


def test_an_upload_whose_import_fails_is_offered_no_more_and_removed(web, repo):
    token = previewed(web)
    (repo / "cases" / "2019").mkdir(parents=True, exist_ok=True)
    (repo / "cases" / "2019" / "hro-2019-0077.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    failed = post(web, "/import", {"action": "confirm", "upload": token})
    assert failed.status_code == 400 and 'name="upload"' not in text(failed)
    assert uploads(repo) == []
