"""kitamono web through Flask's test client, against a real repository in a temporary folder.

Every page and every form: valid input (and the case files it writes, compared with what the
command line writes for the same input), each kind of refused input with the command line's own
message and every file left as it was, a POST without the form token, a foreign Host.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from conftest import kitamono_web, snapshot
from kitamono.errors import KitamonoError
from kitamono.store import Repository
from kitamono.web import create_app
from test_sync import git_env, network  # noqa: F401  (a bare remote and clones, as the sync tests make them)

BASE = "http://127.0.0.1:8470"


class Browser(FlaskClient):
    """A test client that reads each answer whole and closes it, as a browser over a real
    server does (the server settles once an answer is closed)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def client_of(app):
    app.test_client_class = Browser
    client = app.test_client()
    client.token = app.extensions["kitamono"]["csrf"]  # type: ignore[attr-defined]
    return client


@pytest.fixture
def web(repo):
    return client_of(create_app(repo))


def get(client, url, **kw):
    return client.get(url, base_url=BASE, **kw)


def post(client, url, data, token=True, **kw):
    data = dict(data)
    if token:
        data["csrf_token"] = client.token
    return client.post(url, data=data, base_url=BASE, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)


def case_file(repo: Path, case_id: str) -> dict:
    return yaml.safe_load((repo / "cases" / case_id.split("-")[1] / f"{case_id}.yaml").read_text(encoding="utf-8"))


NEW = {
    "company": "株式会社十勝チーズ工房", "municipality": "帯広市", "title": "ナチュラルチーズの殺菌工程の見直し",
    "summary": "新しい殺菌装置の導入にあたり、品質の検査方法を相談したい", "received_on": "令和元年5月14日",
    "received_by": "道総研", "channel": "visit", "contact_name": "十勝 太郎", "contact_phone": "0155-00-0000",
}  # fmt: skip


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "heading"), [
    ("/", "<h1>ダッシュボード</h1>"), ("/cases", "<h1>案件一覧</h1>"), ("/new", "<h1>新規相談</h1>"),
    ("/reports", "第2四半期"), ("/reports/annual", "年度末レビュー"), ("/reference", "<h1>参照データ</h1>"),
    ("/reference?what=municipalities&q=帯広", "帯広市"), ("/sync", "<h1>共有リモートとの同期</h1>"),
])  # fmt: skip
def test_every_page_opens_with_its_heading_and_its_security_headers(web, url, heading):
    response = get(web, url)
    assert response.status_code == 200
    assert heading in text(response)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'none'" in policy
    assert "<script>" not in text(response) and " style=" not in text(response)  # nothing inline


def test_the_dashboard_counts_the_cases_and_this_quarter(web, new_case, run):
    new_case()
    case_id = new_case(received_on="2026-11-01")
    assert "案件 2 件(うち 2026年度 の受付 1 件)" in text(get(web, "/"))
    assert run("case", "start", case_id, "--lead", "hro", "--date", "2026-11-20").exit_code == 0
    page = text(get(web, "/"))  # a change made by the command line shows at the next load
    quarter = page.split('id="quarter-table"')[1].split("</table>")[0]
    # 道総研 row: received 1, referred out 0, referred in 0, started 1, supported 0, followed up 0, closed 0
    assert re.sub(r"<[^>]+>|\s", "", quarter).count("道総研1001000") == 1


def test_an_empty_table_on_a_page_says_none_instead_of_headings_alone(web, new_case):
    new_case(received_on="2026-11-01")  # received only: no support started, so no follow-up is owed
    page = text(get(web, "/"))
    followups = page.split("フォローアップの状況")[1].split("<h2")[0]
    assert '<p class="none">該当なし</p>' in followups and "<table" not in followups


def test_the_case_list_filters_sorts_counts_and_downloads_without_contacts(web, new_case):
    a = new_case(company="株式会社帯広製菓", contact_name="帯広 花子")
    b = new_case(company="株式会社旭川木工", municipality="旭川市", field="monozukuri")
    page = text(get(web, "/cases?subprefecture=上川"))
    assert "1件" in page and b in page and a not in page
    page = text(get(web, "/cases?sort=company"))  # by code point: 帯 (U+5E2F) before 旭 (U+65ED)
    assert page.index("株式会社帯広製菓") < page.index("株式会社旭川木工")
    page = text(get(web, "/cases?sort=company&desc=1"))
    assert page.index("株式会社旭川木工") < page.index("株式会社帯広製菓")
    csv = get(web, "/cases?download=csv&municipality=帯広市")
    assert csv.headers["Content-Disposition"] == 'attachment; filename="cases.csv"'
    assert a in text(csv) and b not in text(csv) and "帯広 花子" not in text(csv)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(get(web, "/cases?download=xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [a, b]
    assert "帯広 花子" not in text(get(web, "/cases")) and "帯広 花子" in text(get(web, f"/cases/{a}"))


def test_a_filter_the_list_cannot_read_says_why(web):
    response = get(web, "/cases?fy=R99x")
    assert response.status_code == 400
    assert "R99x" in text(response)


def test_text_from_a_case_is_escaped(web, new_case):
    case_id = new_case(title="<script>alert(1)</script>", summary="<b>太字</b>")
    page = text(get(web, f"/cases/{case_id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;b&gt;太字&lt;/b&gt;" in page


# --- a new inquiry ------------------------------------------------------------------------------


def test_a_new_inquiry_is_saved_as_case_new_saves_it(web, repo, run, make_repo):
    response = post(web, "/new", {**NEW, "action": "save"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/cases/hro-2019-0001"
    page = text(get(web, "/cases/hro-2019-0001"))
    assert "案件 hro-2019-0001 を登録しました" in page and "十勝 太郎" in page
    other = make_repo("cli")
    args = ["--repo", other, "case", "new", "--no-input", "--company", NEW["company"], "--municipality", "帯広市",
            "--title", NEW["title"], "--summary", NEW["summary"], "--received-on", "R1.5.14", "--received-by", "hro",
            "--channel", "visit", "--contact-name", "十勝 太郎", "--contact-phone", "0155-00-0000"]  # fmt: skip
    assert run(*args).exit_code == 0
    path = Path("cases/2019/hro-2019-0001.yaml")
    assert (repo / path).read_bytes() == (other / path).read_bytes()
    assert case_file(repo, "hro-2019-0001")["received_on"] == date(2019, 5, 14)


def test_the_suggestion_is_shown_before_saving_and_nothing_is_written(web, repo):
    before = snapshot(repo)
    response = post(web, "/new", {**NEW, "action": "preview"})
    assert response.status_code == 200
    page = text(response)
    assert "振り分けの提案" in page and "主担当" in page and "道総研" in page
    assert 'value="株式会社十勝チーズ工房"' in page  # what was typed stays in the form
    live = text(get(web, "/new/suggestion?municipality=帯広市&title=チーズの殺菌"))
    assert "主担当" in live and "<html" not in live
    assert "市町村と件名" in text(get(web, "/new/suggestion?title=チーズ"))
    assert snapshot(repo) == before


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"company": ""}, "company", "入力してください"),
    ({"municipality": "帯広"}, "municipality", "市町村「帯広」は北海道の179市町村にありません"),
    ({"received_on": "令和元年13月1日"}, "received_on", "令和元年13月1日"),
    ({"received_by": "どこか"}, "received_by", "「どこか」"),
    ({"received_on": "2027-01-01"}, "_form", "2027-01-01"),
    ({"title": "殺菌\x1b[31m"}, "_form", "使えない文字"),
])  # fmt: skip
def test_a_refused_inquiry_says_why_keeps_what_was_typed_and_writes_nothing(web, repo, run, change, field, message):
    before = snapshot(repo)
    response = post(web, "/new", {**NEW, **change, "action": "save"})
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'value="ナチュラルチーズの殺菌工程の見直し"' in page or "title" in change
    assert snapshot(repo) == before


def test_a_refused_inquiry_reads_as_on_the_command_line(web, run):
    page = text(post(web, "/new", {**NEW, "municipality": "帯広", "action": "save"}))
    result = run("case", "new", "--no-input", "--company", "株式会社A", "--municipality", "帯広", "--title", "x",
                 "--received-by", "hro", "--channel", "visit")  # fmt: skip
    said = result.stderr.strip().removeprefix("エラー: ")
    assert result.exit_code == 1 and said
    from html import escape

    assert escape(said) in page


# --- recording on a case ------------------------------------------------------------------------

STEPS = [
    ("referred", {"to": "北洋銀行", "date": "R1.5.20"}, ["refer", "--to", "北洋銀行", "--date", "R1.5.20"]),
    ("started", {"lead": "道総研", "supporting": ["hokuyo", "hsc"], "date": "令和元年6月3日"},
     ["start", "--lead", "道総研", "--with", "hokuyo,hsc", "--date", "令和元年6月3日"]),
    ("supported", {"date": "2019-07-01", "note": "試作"}, ["support", "--date", "2019-07-01", "--note", "試作"]),
    ("followed_up", {"date": "2020-05-01"}, ["follow-up", "--date", "2020-05-01"]),
    ("team_formed", {"members": ["hro", "hokuyo"], "date": "2020-06-01"},
     ["team", "--members", "hro,hokuyo", "--date", "2020-06-01"]),
    ("closed", {"outcome": "新商品を発売", "date": "2021-03-01"},
     ["close", "--outcome", "新商品を発売", "--date", "2021-03-01"]),
    ("reopened", {"date": "2021-04-01", "by": "北洋銀行"}, ["reopen", "--date", "2021-04-01", "--by", "北洋銀行"]),
]  # fmt: skip


def test_every_event_form_records_what_the_command_records(web, repo, new_case, run):
    on_page, on_cli = new_case(), new_case()
    for kind, form, args in STEPS:
        response = post(web, f"/cases/{on_page}/record/{kind}", form)
        assert response.status_code == 303, text(response)
        assert run("case", args[0], on_cli, *args[1:]).exit_code == 0
    page_events, cli_events = case_file(repo, on_page)["events"], case_file(repo, on_cli)["events"]
    assert page_events == cli_events
    assert [e["type"] for e in page_events] == ["received", *(kind for kind, _, _ in STEPS)]
    assert page_events[2] == {"type": "started", "date": date(2019, 6, 3), "by": "hro", "lead": "hro",
                              "supporting": ["hokuyo", "hsc"]}  # fmt: skip


@pytest.mark.parametrize(("kind", "form", "field", "args"), [
    ("started", {"lead": "道総研", "date": "令和元年2月30日"}, "date",
     ["start", "--lead", "道総研", "--date", "令和元年2月30日"]),
    ("referred", {"to": "北洋"}, "to", ["refer", "--to", "北洋"]),
    ("supported", {"by": "銀行"}, "by", ["support", "--by", "銀行"]),
    ("supported", {"date": "2019-06-01"}, "_form", ["support", "--date", "2019-06-01"]),
    ("started", {"lead": "道総研", "date": "2019-01-01"}, "_form",
     ["start", "--lead", "道総研", "--date", "2019-01-01"]),
    ("supported", {"note": "a\x07b"}, "note", ["support", "--note", "a\x07b"]),
])  # fmt: skip
def test_a_refused_event_shows_the_command_lines_message_next_to_its_field(web, repo, new_case, run, kind, form,
                                                                             field, args):  # fmt: skip
    case_id = new_case()
    before = snapshot(repo)
    response = post(web, f"/cases/{case_id}/record/{kind}", form)
    assert response.status_code == 400
    result = run("case", args[0], case_id, *args[1:])
    assert result.exit_code == 1
    said = result.stderr.strip().removeprefix("エラー: ")
    from html import escape

    page = text(response)
    opened = page.split(f'id="form-{kind}" open>')[1].split("</details>")[0]  # the form stays open
    assert escape(said) in opened
    if field != "_form":  # right after the field's input
        after_input = rf'name="{field}"[^>]*>(</select>)?</label>\s*<span class="error"[^>]*>'
        assert re.search(after_input + re.escape(escape(said)), opened)
    for name, value in form.items():
        if name in ("date", "to", "by", "lead", "note"):
            assert f'value="{escape(value)}"' in opened
    assert snapshot(repo) == before


def test_a_form_missing_what_it_needs_says_so(web, repo, new_case):
    case_id = new_case()
    response = post(web, f"/cases/{case_id}/record/closed", {"outcome": ""})
    assert response.status_code == 400 and "入力してください" in text(response)
    assert len(case_file(repo, case_id)["events"]) == 1


def test_two_browsers_recording_on_one_case_at_once_both_keep_their_events(web, repo, new_case):
    case_id = new_case()
    post(web, f"/cases/{case_id}/record/started", {"lead": "道総研", "date": "2019-06-01"})
    errors: list[str] = []

    def record(n: int) -> None:
        for day in range(1, 6):
            form = {"date": f"2019-07-0{day}", "note": f"{n}-{day}"}
            response = post(web, f"/cases/{case_id}/record/supported", form)
            if response.status_code != 303:
                errors.append(text(response))

    threads = [threading.Thread(target=record, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    notes = sorted(e["note"] for e in case_file(repo, case_id)["events"] if e["type"] == "supported")
    assert notes == sorted(f"{n}-{day}" for n in range(2) for day in range(1, 6))


# --- security -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/new", "/cases/hro-2019-0001/record/supported", "/sync"])
def test_a_post_without_the_form_token_is_refused_and_writes_nothing(web, repo, new_case, url):
    new_case()
    before = snapshot(repo)
    for data in ({**NEW, "action": "save"}, {**NEW, "action": "save", "csrf_token": "guess"}):
        response = post(web, url, data, token=False)
        assert response.status_code == 403
        assert "確認用の印がない" in text(response)
    assert snapshot(repo) == before


def test_a_post_from_another_sites_page_is_refused(web, repo):
    before = snapshot(repo)
    response = post(web, "/new", {**NEW, "action": "save"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "ほかのサイト" in text(response)
    assert snapshot(repo) == before
    # The pages' own forms carry their origin: a browser sends it when the referrer policy lets it.
    assert get(web, "/").headers["Referrer-Policy"] == "same-origin"
    response = post(web, "/new", {**NEW, "action": "save"}, headers={"Origin": BASE})
    assert response.status_code == 303


@pytest.mark.parametrize("host", ["evil.example:8470", "127.0.0.1:8471", "localhost.evil.example:8470"])
def test_a_foreign_host_is_refused(web, repo, host):
    before = snapshot(repo)
    response = web.get("/", base_url=f"http://{host}")
    assert response.status_code == 400 and "kitamono web が表示したアドレス" in text(response)
    response = web.post("/new", data={**NEW, "action": "save", "csrf_token": web.token}, base_url=f"http://{host}")
    assert response.status_code == 400
    assert snapshot(repo) == before
    assert web.get("/", base_url="http://localhost:8470").status_code == 200


def test_beyond_this_machine_the_token_is_asked_for_once(repo):
    with pytest.raises(KitamonoError):
        create_app(repo, host="192.168.1.20", port=8470)
    app = create_app(repo, host="192.168.1.20", port=8470, token="s3cret-token")
    client, base = client_of(app), "http://192.168.1.20:8470"
    csrf = app.extensions["kitamono"]["csrf"]
    response = client.get("/cases", base_url=base)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    response = client.post("/sign-in", data={"token": "wrong", "csrf_token": csrf}, base_url=base)
    assert response.status_code == 401 and "合言葉が違います" in text(response)
    response = client.post("/sign-in?next=/cases", data={"token": "s3cret-token", "csrf_token": csrf}, base_url=base)
    assert response.status_code == 303 and response.headers["Location"] == "/cases"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/cases", base_url=base).status_code == 200


def test_an_unexpected_error_shows_no_traceback_and_logs_no_case_text(web, monkeypatch, caplog, new_case):
    case_id = new_case(contact_name="秘密 花子")

    def broken(*args, **kwargs):
        raise RuntimeError("秘密 花子 090-0000-0000")

    monkeypatch.setattr("kitamono.routing.route_case", broken)
    response = get(web, f"/cases/{case_id}")
    assert response.status_code == 500
    page = text(response)
    assert "RuntimeError" in page and "Traceback" not in page and "090-0000-0000" not in page
    assert "090-0000-0000" not in caplog.text and "Traceback" not in caplog.text


def test_the_language_switch_is_remembered(web):
    assert "<h1>Dashboard</h1>" in text(get(web, "/?lang=en"))
    assert "<h1>Cases</h1>" in text(get(web, "/cases"))  # the cookie, without asking again
    assert "<h1>ダッシュボード</h1>" in text(get(web, "/?lang=ja"))


# --- reports and reference ----------------------------------------------------------------------


def test_reports_pick_the_quarter_and_download(web, new_case):
    new_case(received_on="2026-11-01")
    page = text(get(web, "/reports?fy=2026&quarter=3&era=1"))
    assert "令和8年度 第3四半期" in page
    from openpyxl import load_workbook

    response = get(web, "/reports?fy=2026&quarter=3&download=xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="quarterly-2026Q3.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["2026年度 第3四半期 機関別"].iter_rows(values_only=True))
    assert rows[1][:2] == ("道総研", 1)
    annual = get(web, "/reports/annual?fy=2026&download=html")
    assert "<svg" in text(annual) and "年度末レビュー" in text(annual)
    assert "# " in text(get(web, "/reports/annual?fy=2026&download=markdown"))
    refused = get(web, "/reports?fy=2027")  # no quarter of it has ended on 2026-11-28
    assert refused.status_code == 400 and "2027" in text(refused)


def test_the_reference_pages_search(web):
    page = text(get(web, "/reference?what=institutions&kind=support&q=銀行"))
    assert "北洋銀行" in page and "道総研" not in page
    assert get(web, "/reference?what=institutions&kind=nope").status_code == 400
    assert get(web, "/reference?what=nope").status_code == 404


# --- sharing ------------------------------------------------------------------------------------


def test_the_sync_page_shows_the_state_and_its_button_syncs(network, run):
    from test_sync import ok

    center = network.center()
    app = create_app(center)
    client = client_of(app)
    case_id = network.new(center, "株式会社A")
    page = text(get(client, "/sync"))
    state = re.sub(r"<[^>]+>|\s", "", page.split('id="sync-state"')[1].split("</table>")[0])
    assert "origin/main" in state and "コミット0" in state and "(ファイル数)1" in state
    response = post(client, "/sync", {})
    assert response.status_code == 200, text(response)
    assert "origin に push しました。同期は完了です" in text(response)
    assert "コミット0" in re.sub(r"<[^>]+>|\s", "", text(response).split('id="sync-state"')[1].split("</table>")[0])
    assert network.remote_case(case_id) is not None
    bank = network.clone("bank", "hokuyo")
    assert ok(network.sync(bank))


def test_sync_without_a_remote_says_so(web, repo, git_env):
    response = post(web, "/sync", {})
    assert response.status_code == 400
    assert "共有リモート" in text(response)


# --- the command ---------------------------------------------------------------------------------


def test_kitamono_web_serves_the_repository_until_stopped(repo, env):
    with kitamono_web() as (server, port):
        assert server.stderr is not None
        line = server.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line and str(repo) in line
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    assert "ダッシュボード" in answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)


def test_kitamono_web_reads_the_cases_as_it_starts_not_at_the_first_page(repo, env, new_case):
    """The server reads the cases before anyone asks for a page, and says how many it read and
    how many files it could not, so that the first page is answered from them at once; it writes
    the index the commands use once that page is sent."""
    new_case()
    new_case(company="株式会社二件目")
    (repo / "cases" / "2019" / "hro-2019-0099.yaml").write_text("id: [\n", encoding="utf-8")
    for name in ("index.pickle", "index-delta.pickle"):
        (repo / ".kitamono" / name).unlink(missing_ok=True)
    with kitamono_web() as (server, port):
        assert server.stderr is not None
        said = [server.stderr.readline() for _ in range(4)]  # no page asked for yet
        assert any(f"http://127.0.0.1:{port}/" in line for line in said), said
        assert "案件 2 件を読み込みました\n" in said and "読めないファイルが 1 件あります" in said[-1], said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20) as answer:
            assert "案件 2 件" in re.sub(r"<[^>]+>", "", answer.read().decode())
        deadline = time.monotonic() + 20
        while not (repo / ".kitamono" / "index.pickle").is_file():  # written after the page
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_while_worker_processes_parse_the_cases_the_server_starts_beside_them(repo, new_case, monkeypatch):
    """With files enough for worker processes, the server is started while they parse (before the
    index is written), once; and the cases it then serves are all of them."""
    from kitamono import index
    from kitamono.web.workspace import Workspace

    for company in ("株式会社十勝機械", "株式会社釧路鉄工", "株式会社北見精工"):
        new_case(company=company)
    for name in ("index.pickle", "index-delta.pickle"):
        (repo / ".kitamono" / name).unlink(missing_ok=True)
    for path in (repo / "cases").rglob("*.yaml"):  # older than any clock tick: an index may trust them
        os.utime(path, (time.time() - 3600,) * 2)
    monkeypatch.setattr(index, "PARALLEL_FROM", 2)  # three files: parsed by workers, as 10,000 are
    indexed_when_started: list[bool] = []
    workspace = Workspace(repo)
    workspace.load_first(lambda: indexed_when_started.append((repo / ".kitamono" / "index.pickle").exists()))
    assert indexed_when_started == [False]
    assert not (repo / ".kitamono" / "index.pickle").exists()  # written once the first page is sent
    app = create_app(repo, workspace=workspace)
    assert "案件 3 件" in re.sub(r"<[^>]+>", "", text(get(client_of(app), "/")))
    assert workspace._saver is not None
    workspace._saver.join()
    assert (repo / ".kitamono" / "index.pickle").is_file()
    parsed: list[str] = []
    parse_all = index._parse_all

    def parse_counted(root, files, full=False):
        parsed.extend(files)
        return parse_all(root, files, full)

    monkeypatch.setattr(index, "_parse_all", parse_counted)
    assert len(index.load_cases(Repository(repo))) == 3
    assert parsed == []  # the index written is current: a command parses nothing again


def test_a_server_that_cannot_start_stops_the_reading_of_the_cases(repo, new_case, monkeypatch):
    from kitamono import index
    from kitamono.web.workspace import Workspace

    for _ in range(3):
        new_case()
    monkeypatch.setattr(index, "PARALLEL_FROM", 2)

    def cannot_start() -> None:
        raise OSError("Address already in use")

    with pytest.raises(OSError, match="Address already in use"):
        Workspace(repo).load_first(cannot_start)


def test_kitamono_web_refuses_an_address_it_could_not_check(run, repo):
    result = run("web", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "0.0.0.0" in result.stderr
