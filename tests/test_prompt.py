"""A person logs a case in Japanese at a terminal prompt (a real pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a POSIX pseudo-terminal")


def _read_until(fd: int, wanted: str, buffer: list[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(buffer)
        if wanted in text:
            return text
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            buffer.append(chunk.decode("utf-8", errors="replace"))
    raise AssertionError(f"no prompt {wanted!r} in {''.join(buffer)!r}")


def test_a_case_logged_at_the_terminal_prompt(repo, run):
    main, secondary = pty.openpty()
    environment = {**os.environ, "KITAMONO_REPO": str(repo), "TERM": "dumb"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from kitamono.cli import main; main()", "case", "new", "--received-on", "2019-05-14"],
        stdin=secondary, stdout=secondary, stderr=secondary, env=environment, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    seen: list[str] = []
    try:
        for prompt, answer in [
            ("会社名", "株式会社とかち菓子工房"),
            ("所在市町村", "帯広"),  # not a municipality: the prompt offers 帯広市 and asks again
            ("候補", "帯広市"),
            ("相談の件名", "焼き菓子の日持ち改善"),
            ("受付の経路", "visit"),
            ("相談の内容", "焼き菓子の賞味期限を延ばしたい"),
        ]:
            _read_until(main, prompt, seen)
            seen.clear()
            os.write(main, (answer + "\r").encode("utf-8"))
        process.wait(timeout=60)
        _read_until(main, "を登録しました", seen)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    assert process.returncode == 0
    listed = json.loads(run("case", "list", "--format", "json").stdout)
    assert [(c["company"], c["municipality"], c["title"], c["field"]) for c in listed] == [
        ("株式会社とかち菓子工房", "帯広市", "焼き菓子の日持ち改善", "food")
    ]
