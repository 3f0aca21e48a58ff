"""Making a case repository (``kitamono init``) and setting up one clone of it.

``init PATH`` writes the shared ``kitamono.yaml``, ``cases/``, a ``.gitignore`` that keeps
``.kitamono/`` (this clone's own settings and index) out of git and a ``.gitattributes`` that
sends case files to kitamono's merge driver; it runs ``git init`` where git is installed and
PATH is not yet inside a repository, and registers the driver in ``.git/config``. Every run
adds ``.kitamono/`` and ``*.tmp`` (what an interrupted write leaves) to the clone's own ignore
rules in ``.git/info/exclude``, which no other clone can change.

In an existing repository (a fresh clone), ``init --institution ID`` sets this clone's
institution and registers the merge driver, touching no shared file; ``init --git-config``
only registers the driver again (and restores the ``.gitattributes`` rule if it is missing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kitamono.errors import RepositoryError
from kitamono.gitsync.driver import ensure_attributes, ensure_excludes, register_driver
from kitamono.gitsync.git import git_available, is_work_tree, run_git
from kitamono.i18n import t
from kitamono.reference import load_reference
from kitamono.store import (
    CASES_DIR,
    LOCAL_DIR,
    SETTINGS_FILE,
    Repository,
    atomic_write,
    read_local,
    write_local,
)

SETTINGS_TEMPLATE = """\
# kitamono の共有設定。この複製を使うすべての機関で共通です (git で共有します)。
# data_dir: data        # 追加の参照データ(後から同意された基本計画など)を置くフォルダ
# auto_commit: false    # true にすると、コマンドごとに git へコミットします
{}
"""


@dataclass
class InitResult:
    root: Path
    created: bool
    messages: list[str] = field(default_factory=list)


def init_repository(path: Path, institution: str | None, git_config: bool = False) -> InitResult:
    """Create the repository at ``path`` (or set up this clone of an existing one)."""
    root = path.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise RepositoryError(t("init.not_a_folder", path=root))
    existing = (root / SETTINGS_FILE).is_file()
    result = InitResult(root, created=not existing)
    if institution is not None:
        data_dir = Repository(root).data_dir if existing else None
        institution = load_reference(data_dir).institution(institution).id
    if existing:
        if institution is None and not git_config:
            result.messages.append(t("init.exists", path=root))
        if git_config and ensure_attributes(root):
            result.messages.append(t("init.attributes_written"))
    else:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write(root / SETTINGS_FILE, SETTINGS_TEMPLATE.format("{}"))
        (root / CASES_DIR).mkdir(exist_ok=True)
        keep = root / CASES_DIR / ".gitkeep"
        if not keep.exists():
            keep.write_text("", encoding="utf-8")
        _ensure_gitignore(root)
        ensure_attributes(root)
        if git_available() and not is_work_tree(root):
            run_git(root, "init", "-q")
            result.messages.append(t("init.git_init"))
        result.messages.append(t("init.created", path=root))
    if not existing or institution is not None or git_config:
        if register_driver(root):
            result.messages.append(t("init.driver_registered"))
        elif git_config:
            result.messages.append(t("init.no_git"))
    if institution is not None:
        local = read_local(root)
        write_local(root, local._replace(institution=institution))
        result.messages.append(t("init.institution_set", institution=institution))
    if is_work_tree(root):
        ensure_excludes(root)  # this clone's own files stay out of git, whatever .gitignore says
    return result


def _ensure_gitignore(root: Path) -> None:
    path = root / ".gitignore"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    missing = [rule for rule in (f"{LOCAL_DIR}/", "*.tmp") if rule not in lines]  # this clone's own; interrupted writes
    if missing:
        atomic_write(path, "\n".join([*lines, *missing]) + "\n")
