"""Talking to a person at a terminal: prompts with completion, and the editor."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import typer

from kitamono.errors import KitamonoError, RepositoryError
from kitamono.i18n import t


def _complete_with(choices: list[str]) -> Callable[[str, int], str | None] | None:
    """Tab completion over ``choices`` while one prompt is open (where readline exists); the
    completer it replaces, to put back."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows
        return None
    previous = readline.get_completer()

    def complete(text: str, state: int) -> str | None:
        matches = [c for c in choices if c.startswith(text)] or [c for c in choices if text and text in c]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    return previous


def ask(question: str, choices: list[str] | None, validate: Callable[[str], str] | None, required: bool = True) -> str:
    """Ask until the answer is valid; an unknown name gets the near names and another try."""
    previous = _complete_with(choices) if choices else None
    if choices and len(choices) <= 12:
        question = f"{question} [{'/'.join(choices)}]"
    elif choices:
        typer.echo(t("prompt.tab_hint"), err=True)
    try:
        while True:
            answer = typer.prompt(question, default="" if not required else None, show_default=False, err=True).strip()
            if not answer:
                if not required:
                    return ""
                continue
            if choices and len(choices) <= 12 and validate is None and answer not in choices:
                typer.echo(t("prompt.choose_one", choices=" / ".join(choices)), err=True)
                continue
            if validate is None:
                return answer
            try:
                return validate(answer)
            except KitamonoError as error:
                typer.echo(str(error), err=True)
    finally:
        if choices:
            try:
                import readline

                readline.set_completer(previous)
            except ImportError:  # pragma: no cover
                pass


def choose_editor(root: Path) -> tuple[str, str]:
    """The editor ``case edit`` opens, and where it came from: $VISUAL or $EDITOR (``env``), git's
    ``core.editor`` (``git``), else nano where it is installed, else vi (``nano``, ``vi``)."""
    for name in ("VISUAL", "EDITOR"):
        if os.environ.get(name, "").strip():
            return os.environ[name], "env"
    from kitamono.gitsync.git import git_available, run_git

    configured = run_git(root, "config", "--get", "core.editor").stdout.strip() if git_available() else ""
    if configured:
        return configured, "git"
    if shutil.which("nano"):
        return "nano", "nano"
    return "vi", "vi"


def edit_text(text: str, editor: str) -> str:
    """Open ``text`` in ``editor`` (a command line, as ``choose_editor`` gives) and return what was saved."""
    with tempfile.TemporaryDirectory(prefix="kitamono-") as folder:
        path = Path(folder) / "case.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            result = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError:
            raise RepositoryError(t("edit.no_editor", editor=editor)) from None
        if result.returncode != 0:
            raise RepositoryError(t("edit.editor_failed", editor=editor, code=result.returncode))
        return path.read_text(encoding="utf-8")
