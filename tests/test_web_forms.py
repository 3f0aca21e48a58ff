"""The case page's corrections, closing with an outcome kind, settling conflicts, 取り込み and the
banner, through Flask's test client against a real repository: each form writes what its command
writes, refuses with the command line's own message next to the field (what was typed kept, every
file as it was), and refuses a POST without the form token.
"""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from conftest import snapshot
from test_conflicts import _rewrite, shared_case, staff  # noqa: F401
from test_sync import git_env, network, ok  # noqa: F401
from test_web import case_file, client_of, get, post, text, web  # noqa: F401


def _said(result) -> str:
    return result.stderr.strip().removeprefix("エラー: ")


def _form(page: str, kind: str) -> str:
    return page.split(f'id="form-{kind}" open>')[1].split("</details>")[0]


def _next_to(form: str, field: str, message: str) -> bool:
    """The message right after the field's input, before the next field."""
    after = form.split(f'name="{field}"', 1)[1].split("<label", 1)[0]
    return f'<span class="error" role="alert">{escape(message)}</span>' in after


# --- corrections --------------------------------------------------------------------------------


def test_corrections_write_what_the_commands_write(web, repo, new_case, run):
    on_page, on_cli = new_case(), new_case()
    for case_id in (on_page, on_cli):
        ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01"))
        ok(run("case", "support", case_id, "--date", "2019-06-10", "--note", "試作"))
    steps = [
        ("amend", {"number": "3", "date": "令和元年6月12日", "note": "試作品の評価", "reason": "日付の誤り"},
         ["amend", "3", "--date", "令和元年6月12日", "--note", "試作品の評価", "--reason", "日付の誤り"]),
        ("amend", {"number": "2", "supporting": ["hokuyo"], "reason": "協力機関の漏れ"},
         ["amend", "2", "--with", "hokuyo", "--reason", "協力機関の漏れ"]),
        ("void", {"number": "3", "reason": "別の案件", "action": "void"}, ["void", "3", "--reason", "別の案件"]),
        ("void", {"number": "3", "reason": "", "action": "unvoid"}, ["void", "3", "--unvoid"]),
        ("set", {"title": "殺菌工程の見直し", "municipality": "音更町", "field": "food", "reason": "件名の誤り"},
         ["set", "--title", "殺菌工程の見直し", "--municipality", "音更町", "--field", "food",
          "--reason", "件名の誤り"]),
        ("withdraw", {"reason": "二重登録", "action": "withdraw"}, ["withdraw", "--reason", "二重登録"]),
    ]  # fmt: skip
    for kind, form, args in steps:
        response = post(web, f"/cases/{on_page}/correct/{kind}", form)
        assert response.status_code == 303, text(response)
        ok(run("case", args[0], on_cli, *args[1:]))
    page, cli = case_file(repo, on_page), case_file(repo, on_cli)
    page.pop("id"), cli.pop("id")
    assert page == cli
    assert page["title"] == "殺菌工程の見直し" and page["withdrawn"]["reason"] == "二重登録"
    assert page["events"][2]["date"].isoformat() == "2019-06-12" and page["events"][1]["supporting"] == ["hokuyo"]
    # A withdrawn case leaves the list, and comes back when asked for.
    def listed() -> str:
        return text(get(web, "/cases")).split('id="cases"')[1]

    assert on_page not in listed() and on_page in text(get(web, "/cases?all=1")).split('id="cases"')[1]
    shown = text(get(web, f"/cases/{on_page}"))
    timeline = shown.split('id="timeline"')[1].split("</ol>")[0]
    assert re.search(r'id="event-3">.*<em class="mark">訂正</em>', timeline)  # amended, voided then restored
    assert '<em class="mark">取消</em>' not in timeline
    response = post(web, f"/cases/{on_page}/correct/withdraw", {"action": "restore", "reason": ""})
    assert response.status_code == 303 and on_page in listed()
    voided = post(web, f"/cases/{on_page}/correct/void", {"number": "3", "reason": "誤り", "action": "void"})
    assert voided.status_code == 303
    timeline = text(get(web, f"/cases/{on_page}")).split('id="timeline"')[1].split("</ol>")[0]
    assert re.search(r'id="event-3">[^\n]*【取消】支援[^\n]*<em class="mark">取消</em> <em class="mark">訂正</em>',
                     timeline)  # fmt: skip


@pytest.mark.parametrize(("kind", "form", "field", "args"), [
    ("amend", {"number": "1", "date": "2019-05-20"}, "reason", ["amend", "1", "--date", "2019-05-20", "--reason", " "]),
    ("amend", {"number": "2", "by": "銀行", "reason": "誤り"}, "by",
     ["amend", "2", "--by", "銀行", "--reason", "誤り"]),
    ("amend", {"number": "2", "date": "令和元年2月30日", "reason": "誤り"}, "date",
     ["amend", "2", "--date", "令和元年2月30日", "--reason", "誤り"]),
    ("amend", {"number": "9", "note": "x", "reason": "誤り"}, "_form",
     ["amend", "9", "--note", "x", "--reason", "誤り"]),
    ("amend", {"number": "2", "reason": "誤り"}, "_form", ["amend", "2", "--reason", "誤り"]),
    ("void", {"number": "1", "reason": "誤り", "action": "void"}, "_form", ["void", "1", "--reason", "誤り"]),
    ("void", {"number": "2", "reason": "", "action": "void"}, "reason", ["void", "2", "--reason", ""]),
    ("set", {"municipality": "帯広", "reason": "誤り"}, "municipality",
     ["set", "--municipality", "帯広", "--reason", "誤り"]),
    ("set", {"approved_project": "2099-01-01", "reason": "誤り"}, "_form",
     ["set", "--approved-project", "2099-01-01", "--reason", "誤り"]),
    ("withdraw", {"reason": " ", "action": "withdraw"}, "reason", ["withdraw", "--reason", " "]),
])  # fmt: skip
def test_a_refused_correction_shows_the_command_lines_message_next_to_its_field(web, repo, new_case, run, kind, form,
                                                                                field, args):  # fmt: skip
    case_id = new_case()
    ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01"))
    before = snapshot(repo)
    response = post(web, f"/cases/{case_id}/correct/{kind}", form)
    assert response.status_code == 400
    result = run("case", args[0], case_id, *args[1:])
    assert result.exit_code == 1 and snapshot(repo) == before
    opened = _form(text(response), kind)
    if field == "_form":
        assert f'<p class="error" role="alert">{escape(_said(result))}</p>' in opened
    else:
        assert _next_to(opened, field, _said(result)), opened
    for name, value in form.items():
        if name in ("date", "by", "note", "municipality", "approved_project") or (name == "reason" and value.strip()):
            assert f'value="{escape(value)}"' in opened


# --- closing -------------------------------------------------------------------------------------


def test_closing_with_an_outcome_kind_and_no_follow_up_writes_what_case_close_writes(web, repo, new_case, run):
    on_page, on_cli = new_case(), new_case()
    for case_id in (on_page, on_cli):
        ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01"))
    form = {"outcome": "事業を断念", "outcome_kind": "事業化", "no_follow_up": "1", "reason": "廃業",
            "date": "2019-09-01"}  # fmt: skip
    assert post(web, f"/cases/{on_page}/record/closed", form).status_code == 303
    ok(run("case", "close", on_cli, "--outcome", "事業を断念", "--outcome-kind", "事業化", "--no-follow-up",
           "--reason", "廃業", "--date", "2019-09-01"))  # fmt: skip
    assert case_file(repo, on_page)["events"] == case_file(repo, on_cli)["events"]
    assert case_file(repo, on_page)["events"][-1]["follow_up_waiver"] == "廃業"


@pytest.mark.parametrize(("form", "field", "args"), [
    ({"outcome": "完了", "no_follow_up": "1"}, "reason", ["--outcome", "完了", "--no-follow-up"]),
    ({"outcome": "完了", "reason": "廃業"}, "reason", ["--outcome", "完了", "--reason", "廃業"]),
    ({"outcome": "完了", "outcome_kind": "大成功"}, "outcome_kind", ["--outcome", "完了", "--outcome-kind", "大成功"]),
])  # fmt: skip
def test_a_refused_close_says_why_next_to_the_field(web, repo, new_case, run, form, field, args):
    case_id = new_case()
    ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01"))
    before = snapshot(repo)
    response = post(web, f"/cases/{case_id}/record/closed", form)
    assert response.status_code == 400
    result = run("case", "close", case_id, *args)
    assert result.exit_code == 1 and snapshot(repo) == before
    opened = _form(text(response), "closed")
    assert _next_to(opened, field, _said(result)), opened
    assert 'value="完了"' in opened


def test_a_team_on_a_case_with_no_lead_is_refused_on_the_page_as_case_team_refuses_it(web, repo, new_case, run):
    case_id = new_case()
    before = snapshot(repo)
    response = post(web, f"/cases/{case_id}/record/team_formed", {"members": ["hro", "hokuyo"], "date": "2019-06-01"})
    assert response.status_code == 400
    result = run("case", "team", case_id, "--members", "hro,hokuyo", "--date", "2019-06-01")
    assert result.exit_code == 1 and "主担当" in result.stderr and snapshot(repo) == before
    assert escape(_said(result)) in _form(text(response), "team_formed")


@pytest.mark.parametrize("url", ["/cases/hro-2019-0001/correct/amend", "/cases/hro-2019-0001/correct/withdraw",
                                 "/cases/hro-2019-0001/resolve", "/import"])  # fmt: skip
def test_a_correction_without_the_form_token_is_refused_and_writes_nothing(web, repo, new_case, url):
    new_case()
    before = snapshot(repo)
    response = post(web, url, {"number": "1", "note": "x", "reason": "誤り", "action": "withdraw"}, token=False)
    assert response.status_code == 403 and "確認用の印がない" in text(response)
    assert get(web, url).status_code in (404, 405, 200)  # never a change on GET
    assert snapshot(repo) == before


# --- conflicts -----------------------------------------------------------------------------------


def test_conflicts_show_each_side_and_are_settled_by_a_choice(network, run, staff):
    from kitamono.web import create_app

    center, bank, case_id = shared_case(network, staff)
    staff("道総研 太郎", "2026-10-10")
    _rewrite(center, case_id, title="殺菌工程と品質検査の見直し", company="十勝チーズ工房株式会社")
    ok(network.sync(center))
    staff("北洋 花子", "2026-10-12")
    _rewrite(bank, case_id, title="殺菌装置の更新と資金計画", company="有限会社十勝チーズ工房")
    assert network.sync(bank).exit_code == 1
    app = create_app(bank)
    client = client_of(app)
    banner = text(get(client, "/"))
    assert "値を選んで" in banner and "「選んだ値で解決する」を押し" in banner and case_id in banner
    for url in (f"/cases/{case_id}", "/sync"):
        page = re.sub(r"<[^>]+>", " ", text(get(client, url)).split('id="conflicts"')[1])
        assert "有限会社十勝チーズ工房" in page and "十勝チーズ工房株式会社" in page
        assert "殺菌装置の更新と資金計画" in page and "殺菌工程と品質検査の見直し" in page
    files = snapshot(bank)
    refused = post(client, f"/cases/{case_id}/resolve", {"take_1": "value", "value_1": "", "take_2": "theirs"})
    assert refused.status_code == 400 and snapshot(bank) == files
    refused = post(client, f"/cases/{case_id}/resolve", {})
    assert refused.status_code == 400 and "--take ours か --take theirs" in text(refused) and snapshot(bank) == files
    done = post(client, f"/cases/{case_id}/resolve", {"take_1": "value", "value_1": "株式会社十勝チーズ工房 本社工場",
                                                       "take_2": "theirs", "next": "/sync"})  # fmt: skip
    assert done.status_code == 303 and done.headers["Location"].endswith("/sync")
    data = case_file(bank, case_id)
    assert data["company"]["name"] == "株式会社十勝チーズ工房 本社工場"
    assert data["title"] == "殺菌工程と品質検査の見直し"
    assert "conflicts" not in data and len(data["resolved_conflicts"]) == 2
    assert ok(network.sync(bank))


# --- 取り込み ------------------------------------------------------------------------------------

LOG = ("受付日,受付経路,相談企業名,所在地,相談内容\n"
       "2019/05/14,来所,株式会社十勝チーズ工房,帯広市,チーズの殺菌工程の見直し\n"
       "2019/06/01,電話,株式会社旭川木工,旭川市,家具の塗装の試作\n")  # fmt: skip


def cases(repo) -> dict[str, str]:
    return {path: digest for path, digest in snapshot(repo).items() if path.startswith("cases/")}


def _upload(client, content: str, name: str = "相談記録簿.csv", **form):
    import io

    data = {"csrf_token": client.token, "action": "preview", "file": (io.BytesIO(content.encode()), name), **form}
    return client.post("/import", data=data, base_url="http://127.0.0.1:8470", content_type="multipart/form-data")


def test_an_inquiry_log_is_previewed_as_import_dry_run_then_imported(web, repo, run, tmp_path):
    path = tmp_path / "相談記録簿.csv"
    path.write_text(LOG, encoding="utf-8")
    dry = run("import", path, "--dry-run")
    assert dry.exit_code == 0
    cases_before = cases(repo)
    preview = _upload(web, LOG)
    assert preview.status_code == 200, text(preview)
    shown = text(preview).split('<pre class="preview">')[1].split("</pre>")[0]
    *said, summary = dry.stderr.splitlines()
    assert [escape(line) for line in said] == shown.splitlines()
    assert escape(summary) in text(preview)
    assert cases(repo) == cases_before  # a preview writes no case
    token = re.search(r'name="upload" value="([0-9a-f]+)"', text(preview)).group(1)
    done = post(web, "/import", {"action": "confirm", "upload": token, "maps": "", "ignored": ""})
    assert done.status_code == 303, text(done)
    listed = text(get(web, "/cases"))
    assert "株式会社十勝チーズ工房" in listed and "株式会社旭川木工" in listed and "追加 2件" in listed
    assert post(web, "/import", {"action": "confirm", "upload": token}).status_code == 400  # used once


@pytest.mark.parametrize(("content", "name", "form", "words"), [
    (LOG.replace("2019/06/01", "2019/13/01"), "相談記録簿.csv", {}, "問題が1件あります"),
    (LOG, "相談記録簿.txt", {}, "相談記録簿.txt"),
    (LOG, "相談記録簿.csv", {"maps": "所在地"}, "所在地"),
])  # fmt: skip
def test_an_inquiry_log_with_a_problem_imports_nothing_and_says_why(web, repo, run, tmp_path, content, name, form,
                                                                    words):  # fmt: skip
    before = cases(repo)
    response = _upload(web, content, name, **form)
    assert response.status_code == 400
    assert words in text(response) and 'name="upload"' not in text(response)
    assert cases(repo) == before
    assert post(web, "/import", {"action": "confirm", "upload": "0" * 32}).status_code == 400


# --- the banner ----------------------------------------------------------------------------------


def test_a_damaged_file_is_named_with_what_to_do_and_the_rest_still_counts(web, repo, new_case):
    new_case()
    broken = new_case()
    path = repo / "cases" / "2019" / f"{broken}.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    page = text(get(web, "/"))
    banner = page.split('id="banner"')[1].split("</div>")[0]
    assert f"cases/2019/{broken}.yaml" in banner and "kitamono case edit" in banner
    assert "案件 1 件" in page
    assert 'id="banner"' in text(get(web, "/reports"))


# --- what a page costs ---------------------------------------------------------------------------


def test_a_page_looks_at_folders_and_every_file_is_looked_at_beside_the_requests(web, repo, new_case, run):
    import os
    import time

    case_id = new_case(company="株式会社帯広製菓")
    path = repo / "cases" / "2019" / f"{case_id}.yaml"
    workspace = web.application.extensions["kitamono"]["workspace"]

    def settle() -> None:
        """Every file and folder an hour old (past any clock tick), and the look at every file done."""
        for folder, _, names in os.walk(repo / "cases"):
            for name in [*names, "."]:
                os.utime(os.path.join(folder, name), (time.time() - 3600,) * 2)
        get(web, "/")
        workspace._verifier.join()
        get(web, "/")  # every file verified as loaded: from now on the folders' times decide
        workspace._verifier.join()

    settle()
    text_now = path.read_text(encoding="utf-8")
    with path.open("r+", encoding="utf-8") as edited:  # in place, as some editors write: the folder's time stays
        edited.write(text_now.replace("株式会社帯広製菓", "株式会社帯広菓子"))
    get(web, "/cases?text=帯広")  # answered from the folders' times; the look at every file runs beside it
    workspace._verifier.join()
    assert "株式会社帯広菓子" in text(get(web, "/cases?text=帯広"))
    settle()
    ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-01"))  # a new file: its folder changes
    assert "支援中" in text(get(web, "/cases?text=帯広")).split('id="cases"')[1]


def test_a_case_in_a_new_year_folder_shows_at_the_next_page(web, repo, new_case):
    """A page lists a folder's entries again only when its time changed: a case received in a
    年度 with no folder yet makes one, which changes the time of ``cases/``, and it shows."""
    import os
    import time

    workspace = web.application.extensions["kitamono"]["workspace"]

    def settle() -> None:
        for folder, _, names in os.walk(repo / "cases"):  # older than any clock tick: the times decide
            for name in [*names, "."]:
                os.utime(os.path.join(folder, name), (time.time() - 3600,) * 2)
        for _ in range(2):  # loaded, then every file verified as loaded
            get(web, "/")
            workspace._verifier.join()

    new_case(company="株式会社帯広製菓")
    settle()
    assert not (repo / "cases" / "2021").exists()
    new_case(company="株式会社釧路水産", received_on="2021-07-01")
    listed = text(get(web, "/cases"))
    assert "株式会社釧路水産" in listed and "株式会社帯広製菓" in listed
    settle()
    new_case(company="株式会社根室漁業", received_on="2021-08-02")  # only the new folder's time changes
    assert "株式会社根室漁業" in text(get(web, "/cases"))


# --- the new-case form --------------------------------------------------------------------------


def test_a_guessed_field_is_chosen_on_the_form_not_with_a_command_line_option(web, repo, run):
    from test_web import NEW

    notice = "分野を内容から「食料品製造関連」と推定しました(違うときは、この画面の「分野」の欄で選んでください)"
    preview = text(post(web, "/new", {**NEW, "action": "preview"}))
    assert f'<p class="flash warning">{notice}</p>' in preview and "--field" not in preview
    saved = post(web, "/new", {**NEW, "action": "save"})
    assert saved.status_code == 303
    page = text(get(web, saved.headers["Location"]))
    assert notice in page and "--field" not in page
    said = ok(run("case", "new", "--no-input", "--company", NEW["company"], "--municipality", "帯広市",
                  "--title", NEW["title"], "--received-on", "R1.5.14", "--channel", "visit"))  # fmt: skip
    assert "分野を内容から「食料品製造関連」と推定しました(--field で指定できます)" in said.stderr


def test_a_tie_between_fields_is_explained_on_the_page_without_a_command_line_option(web):
    """「食品」 and 「機械」 once each, and a title that names neither: a tie, said in words that fit
    the page as well as the command line."""
    from test_web import NEW

    typed = {**NEW, "title": "相談", "summary": "食品の加工と機械の設計について相談したい", "action": "preview"}
    preview = text(post(web, "/new", typed))
    said = "語の数が同じで、件名からも決められないため「食料品製造関連」としました(違うときは分野を指定してください)"
    assert said in preview
    assert "--" not in re.sub(r"<!--.*?-->", "", preview)
