"""The case repository on disk: settings, ids, the write lock, and the only writer of its files.

A repository is a folder with a shared ``kitamono.yaml`` (committed) and a ``cases/`` folder,
one file per case grouped by the fiscal year in its id; this clone's own settings (which
institution it works for, the last ids it minted) live in ``.kitamono/``, kept out of git::

    kitamono.yaml            data_dir: data        # shared by every clone
    .kitamono/local.yaml     institution: hokuyo   # this clone only
    cases/2019/hokuyo-2019-0001.yaml

Case files are read, and their text made, by ``caseio``; they are written here alone. Writes
are atomic (temporary file in the same folder, fsync, rename), and creating a case
never replaces an existing file, even when two processes create at once. A change to a case is
read, made and written under one lock (``update_case``), so two writers never lose each other's
change. Ids are checked against ``ids.CASE_ID`` before they name a file, and nothing is read or
written through a symbolic link under ``cases/`` (one committed by a collaborator could point
anywhere, outside the repository too).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kitamono.caseio import case_from_text, case_text, dump_yaml, read_case_text, read_yaml, validation_message
from kitamono.errors import CaseChanged, DataError, InputError, RepositoryError
from kitamono.i18n import t
from kitamono.ids import parse_case_id, shown

if TYPE_CHECKING:  # the models (and pydantic) load when a case or the settings are read
    from pydantic import ValidationError

    from kitamono.models import Case, Settings

SETTINGS_FILE = "kitamono.yaml"
LOCAL_DIR = ".kitamono"
CASES_DIR = "cases"
#: A link's entry in a scan: no real file has this size, so an index never takes one for the other.
LINK_SIZE = -1


class LocalSettings(NamedTuple):
    """``.kitamono/local.yaml``: this clone's own settings, never committed."""

    institution: str | None = None


class Repository:
    """A case repository. Its settings files are read when first needed (counting cases needs
    neither), and a bad one is reported then."""

    def __init__(self, root: Path, settings: Settings | None = None, local: LocalSettings | None = None) -> None:
        self.root = root
        self.cases_dir = root / CASES_DIR
        self.local_dir = root / LOCAL_DIR  # this clone's own files, never shared
        if settings is not None:  # given, not read from the folder
            self.__dict__["settings"] = settings
        if local is not None:
            self.__dict__["local"] = local
        self.swept_at: float | None = None  # when interrupted writes were last cleared (monotonic)

    def __repr__(self) -> str:
        return f"Repository({str(self.root)!r})"

    @cached_property
    def settings(self) -> Settings:
        return read_settings(self.root)

    @cached_property
    def local(self) -> LocalSettings:
        return read_local(self.root)

    @property
    def data_dir(self) -> Path | None:
        """The repository's own reference data folder (``data_dir`` in ``kitamono.yaml``).

        A folder inside the repository, links followed, and never ``.kitamono/`` (this clone's
        own files, which ``sync`` would then share) nor ``.git``: ``kitamono.yaml`` comes from
        the other clones, so anything else is refused.
        """
        value = self.settings.data_dir
        if not value:
            return None
        root = self.root.resolve()
        try:
            folder = (root / value).resolve()
        except (OSError, ValueError, RuntimeError):  # a NUL byte, a loop of links
            folder = None
        inside = folder.relative_to(root).parts if folder is not None and folder.is_relative_to(root) else ()
        if not inside or inside[0] in (LOCAL_DIR, ".git"):
            raise DataError(f"{self.root / SETTINGS_FILE}: data_dir: {t('store.data_dir_outside', value=value)}")
        return folder

    # --- case files ----------------------------------------------------------------------------

    def case_path(self, case_id: str) -> Path:
        """Where the case ``case_id`` belongs: ``cases/<年度>/<id>.yaml`` (InputError for a non-id)."""
        return self.cases_dir / check_case_id(case_id)["fy"] / f"{case_id}.yaml"

    def case_files(self) -> list[Path]:
        """Every case file, in a stable order (and every link under ``cases/``, which is refused
        when read)."""
        return [self.root / relative for relative, _, _ in scan_cases(self.root, self.cases_dir).files]

    def find_case_file(self, case_id: str) -> Path:
        """The file of the case ``case_id``: where it belongs, else a file of that exact name
        elsewhere under ``cases/``. The id is checked first; it is never a pattern or a path."""
        path = self.case_path(case_id)
        self.refuse_links(path)
        if path.is_file():
            return path
        name = path.name
        for candidate in self.case_files():
            if candidate.name == name:
                return candidate
        raise RepositoryError(t("store.no_such_case", id=case_id))

    def refuse_links(self, path: Path) -> None:
        """RepositoryError if ``cases/``, a folder under it on the way to ``path``, or ``path``
        itself is a symbolic link: reading or writing through it could leave the repository."""
        current = self.cases_dir
        for part in ("", *path.relative_to(self.cases_dir).parts):
            current = current / part if part else current
            if current.is_symlink():
                raise RepositoryError(f"{current}: {t('store.symlink')}")

    def next_id(self, prefix: str, fiscal_year: int) -> str:
        """The next unused id for ``prefix`` in a fiscal year (never one this clone used before)."""
        folder = self.cases_dir / str(fiscal_year)
        highest = _read_counter(self.local_dir, prefix, fiscal_year)
        if folder.is_dir():
            for name in os.listdir(folder):
                match = parse_case_id(name.removesuffix(".yaml"))
                if match and match["prefix"] == prefix and int(match["fy"]) == fiscal_year:
                    highest = max(highest, int(match["seq"]))
        return f"{prefix}-{fiscal_year}-{highest + 1:04d}"

    def remember_id(self, case_id: str) -> None:
        match = check_case_id(case_id)
        _write_counter(self.local_dir, match["prefix"], int(match["fy"]), int(match["seq"]))


def check_case_id(case_id: str) -> re.Match[str]:
    """The parts of ``case_id``, or InputError when it is not exactly an id (``ids.CASE_ID``)."""
    match = parse_case_id(case_id)
    if match is None:
        raise InputError(t("store.bad_id", id=shown(str(case_id))))
    return match


class Scan(NamedTuple):
    """What is under ``cases/``: the case files and links, and the temporary files left behind."""

    files: list[tuple[str, int, int]]  # (path relative to the root, size, mtime_ns), sorted by path
    leftovers: list[str]  # ``.ID.yaml.XXXX.tmp`` of writes that never finished (or are under way)
    #: Every folder listed: its time, read before its entries were, and its subfolders. A caller
    #: that keeps the cases (``kitamono web``) knows from them when a file is added or removed.
    folders: dict[str, tuple[int, list[str]]] = {}  # noqa: RUF012 - a NamedTuple's default, never changed


def scan_cases(root: Path, cases_dir: Path, with_files: bool = True) -> Scan:
    """Every ``*.yaml`` file under ``cases/`` with its size and time, without following links.

    A symbolic link (to a file or a folder, or ``cases/`` itself) is listed with ``LINK_SIZE``
    and not followed, so that reading it fails with a clear message instead of reading
    whatever it points to. Knowing this costs nothing: the folder listing says which entries
    are links. Names starting with a dot are skipped (``.gitkeep``, temporary files, which are
    returned apart). Without ``with_files`` only those temporary files are looked for, from the
    folder listings alone (no file is looked at), so that a writing command pays little for it.
    """
    found: list[tuple[str, int, int]] = []
    leftovers: list[str] = []
    folders: dict[str, tuple[int, list[str]]] = {}
    skip = len(str(root)) + 1
    start = str(cases_dir)
    if os.path.islink(start):
        return Scan([(start[skip:], LINK_SIZE, os.lstat(start).st_mtime_ns)], [])
    stack = [start]
    while stack:
        folder = stack.pop()
        prefix = folder[skip:] + "/"
        try:
            mtime = os.lstat(folder).st_mtime_ns
            entries = os.scandir(folder)
        except FileNotFoundError:
            continue
        subfolders: list[str] = []
        folders[folder] = (mtime, subfolders)
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    if name.endswith(".tmp") and ".yaml." in name:
                        leftovers.append(prefix + name)
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    subfolders.append(entry.path)
                elif not with_files:
                    continue
                elif name.endswith(".yaml") and not entry.is_symlink():
                    info = entry.stat(follow_symlinks=False)
                    found.append((prefix + name, info.st_size, info.st_mtime_ns))
                elif entry.is_symlink():
                    found.append((prefix + name, LINK_SIZE, entry.stat(follow_symlinks=False).st_mtime_ns))
    found.sort()
    leftovers.sort()
    return Scan(found, leftovers, folders)


# --- finding and making repositories --------------------------------------------------------------


def find_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    return None


def open_repository(explicit: Path | None = None) -> Repository:
    """``--repo``, else ``KITAMONO_REPO``, else the nearest folder above with ``kitamono.yaml``."""
    if explicit is None and os.environ.get("KITAMONO_REPO"):
        explicit = Path(os.environ["KITAMONO_REPO"])
    if explicit is not None:
        root = explicit.expanduser().resolve()
        if not (root / SETTINGS_FILE).is_file():
            raise RepositoryError(t("store.not_a_repo", path=root))
    else:
        found = find_root(Path.cwd().resolve())
        if found is None:
            raise RepositoryError(t("store.no_repo"))
        root = found
    return Repository(root)


def read_settings(root: Path) -> Settings:
    """``kitamono.yaml``, checked (``models.Settings``): a key misspelt or a value of the wrong
    kind is a DataError naming the file and the key."""
    from pydantic import ValidationError

    from kitamono.models import Settings

    path = root / SETTINGS_FILE
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise DataError(f"{path}: {t('store.settings_not_mapping')}")
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise DataError(f"{path}: {_settings_problem(error)}") from None


#: The catalogue's words for what is wrong with a setting, by Pydantic's error type.
_SETTINGS_PROBLEMS = {"bool_type": "store.expected_bool", "string_type": "store.expected_text"}


def _settings_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return t("data.unknown_key", key=where)
    if first["type"] in _SETTINGS_PROBLEMS:
        return f"{where}: {t(_SETTINGS_PROBLEMS[first['type']])}"
    return validation_message(error)


def read_local(root: Path) -> LocalSettings:
    path = root / LOCAL_DIR / "local.yaml"
    if not path.is_file():
        return LocalSettings()
    if _tracked(root, f"{LOCAL_DIR}/local.yaml"):  # someone's committed settings, brought by a pull
        raise RepositoryError(t("store.local_tracked", path=path))
    data = read_yaml(path) or {}
    institution = data.get("institution") if isinstance(data, dict) else None
    return LocalSettings(institution=institution if isinstance(institution, str) else None)


def _tracked(root: Path, relative: str) -> bool:
    """Whether git tracks ``relative`` in this clone (False outside git, or without git)."""
    if not (root / ".git").exists():
        return False
    from kitamono.gitsync.git import run_git

    try:
        return run_git(root, "ls-files", "--error-unmatch", "--", relative).returncode == 0
    except RepositoryError:  # git is not installed: nothing can have been pulled
        return False


def write_local(root: Path, local: LocalSettings) -> None:
    (root / LOCAL_DIR).mkdir(exist_ok=True)
    text = "# この複製だけの設定 (git には入りません)\n" + dump_yaml({"institution": local.institution})
    atomic_write(root / LOCAL_DIR / "local.yaml", text)


def _read_counter(local_dir: Path, prefix: str, fiscal_year: int) -> int:
    path = local_dir / "ids" / f"{prefix}-{fiscal_year}"
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _write_counter(local_dir: Path, prefix: str, fiscal_year: int, seq: int) -> None:
    folder = local_dir / "ids"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if seq > _read_counter(local_dir, prefix, fiscal_year):
            atomic_write(folder / f"{prefix}-{fiscal_year}", f"{seq}\n")
    except OSError:
        pass  # the counter only guards against reuse after a deletion; the files themselves rule


# --- one writer at a time ------------------------------------------------------------------------

#: How long a command waits for another kitamono process (or thread) writing the same repository.
LOCK_TIMEOUT_S = 30.0
LOCK_FILE = "write.lock"


@contextmanager
def write_lock(repo: Repository, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Held while case files are read, changed and written back, so that two writers (two
    processes, or two threads of one process such as the web page) never lose each other's
    change: the second waits until the first has written, then reads what it wrote.

    One lock per repository (writes take milliseconds); re-entrant within a thread, so a core
    function that holds it can call another that takes it. The first holder in a while also
    clears the temporary files that interrupted writes left (``remove_interrupted_writes``):
    with the lock held, no kitamono is writing one.
    """
    from filelock import FileLock, Timeout

    try:
        repo.local_dir.mkdir(exist_ok=True)
        lock = FileLock(repo.local_dir / LOCK_FILE, is_singleton=True)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise RepositoryError(t("store.lock_timeout", seconds=int(timeout))) from None
    except OSError as error:
        raise RepositoryError(t("store.lock_unavailable", path=repo.local_dir, error=type(error).__name__)) from None
    try:
        if lock.lock_counter == 1:  # the outermost hold: wait for git, as git waits for itself
            _wait_for_git(repo, time.monotonic() + timeout)
        if repo.swept_at is None or time.monotonic() - repo.swept_at > SWEEP_EVERY_S:
            remove_interrupted_writes(repo)
            repo.swept_at = time.monotonic()
        yield
    finally:
        lock.release()


def _git_dir(root: Path) -> Path:
    """The clone's git folder (``.git``, or where a ``.git`` file of a linked work tree points)."""
    dot_git = root / ".git"
    if dot_git.is_file():
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            return (root / text.removeprefix("gitdir:").strip()).resolve()
    return dot_git


def _wait_for_git(repo: Repository, deadline: float) -> None:
    """Wait while a git process holds this clone's index (``index.lock``): a merge or checkout
    may be writing case files, and a case written meanwhile would be overwritten. This covers git
    run by hand (``git pull``) and git left running by a ``kitamono sync`` that was killed."""
    index_lock = _git_dir(repo.root) / "index.lock"
    while index_lock.exists():
        if time.monotonic() > deadline:
            raise RepositoryError(t("store.git_busy", path=index_lock))
        time.sleep(0.05)


#: A temporary file this old is a leftover even if some writer did not take the lock (an older
#: kitamono): a write takes milliseconds.
LEFTOVER_AGE_S = 60.0
#: How often a long-running process (the web page) clears them again.
SWEEP_EVERY_S = 600.0


def remove_interrupted_writes(repo: Repository) -> list[str]:
    """Remove the ``.ID.yaml.XXXX.tmp`` files under ``cases/`` that a killed write left (full,
    stale case texts); only ones older than ``LEFTOVER_AGE_S``. Returns their paths (relative).

    Called with ``write_lock`` held. A file that cannot be removed stays; ``check`` reports it.
    """
    removed = []
    limit = time.time_ns() - int(LEFTOVER_AGE_S * 1e9)
    for relative in scan_cases(repo.root, repo.cases_dir, with_files=False).leftovers:
        path = repo.root / relative
        try:
            if path.lstat().st_mtime_ns < limit:
                path.unlink()
                removed.append(relative)
        except OSError:
            pass
    return removed


# --- atomic file writes ---------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mkstemp(path: Path) -> tuple[int, str]:
    """A temporary file beside ``path``, with the permissions a plain new file would get."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile

    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(name, 0o666 & ~_umask())
    return fd, name


def _temporary(path: Path, text: str) -> Path:
    fd, name = _mkstemp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old file or the new, never half."""
    temporary = _temporary(path, text)
    os.replace(temporary, path)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """``atomic_write`` for binary content (a spreadsheet, a report file).

    A cache that is rebuilt whenever it is missing or damaged need not be ``durable``: it is
    still replaced in one step, but not forced to the disk first (which can take longer than
    everything else a command does).
    """
    fd, name = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def exclusive_write(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` atomically; False (and nothing written) if it exists."""
    temporary = _temporary(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


# --- writing case files ---------------------------------------------------------------------------


def update_case(repo: Repository, case_id: str, change: Callable[[Case], Case]) -> Case:
    """Read the case ``case_id``, apply ``change(case) -> case`` and write the result back, with
    no other writer in between: every read-modify-write of a case goes through here.

    ``change`` sees the file as it is now (another writer's change included) and may raise to
    refuse; then nothing is written. Returns the case written.
    """
    return _rewrite(repo, case_id, lambda path, text: change(case_from_text(path, text)))[1]


def replace_edited(repo: Repository, case_id: str, original: str, case: Case) -> Path:
    """Write ``case`` (edited by hand from the text ``original``) over the case's file, unless
    the file no longer holds ``original`` (someone wrote the case meanwhile): CaseChanged."""

    def unless_changed(path: Path, text: str) -> Case:
        if text != original:
            raise CaseChanged(t("store.changed_meanwhile", id=case_id))
        return case

    return _rewrite(repo, case_id, unless_changed)[0]


def _rewrite(repo: Repository, case_id: str, make: Callable[[Path, str], Case]) -> tuple[Path, Case]:
    """Under the lock: the case's file and text now, ``make(path, text) -> case``, written back."""
    with write_lock(repo):
        path = repo.find_case_file(case_id)
        updated = make(path, read_case_text(path))
        if updated.id != case_id:
            raise InputError(t("edit.id_changed", id=case_id))
        _replace(path, case_text(updated))
    return path, updated


def _replace(path: Path, text: str) -> None:
    """Replace an existing case file atomically, keeping its permissions; a read-only file is
    refused (replacing it would succeed: a rename does not ask the file)."""
    import stat

    info = path.lstat()
    # Root may write anything (os.access says yes), so the file's own write bits are asked too.
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise RepositoryError(t("store.read_only", path=path))
    temporary = _temporary(path, text)
    try:
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_case(repo: Repository, case: Case, prefix: str, fiscal_year: int) -> Case:
    """Store a new case under the next free id; never overwrites, even under a race."""
    with write_lock(repo):
        repo.refuse_links(repo.cases_dir / str(fiscal_year))
        for _ in range(1000):
            case_id = repo.next_id(prefix, fiscal_year)
            case = case.model_copy(update={"id": case_id})
            if exclusive_write(repo.case_path(case_id), case_text(case)):
                repo.remember_id(case_id)
                return case
    raise RepositoryError(t("store.no_free_id", prefix=prefix))


def add_case(repo: Repository, case: Case) -> bool:
    """Store a case under the id it already has (an import keeps ids); False if that file exists."""
    path = repo.case_path(case.id)
    with write_lock(repo):
        repo.refuse_links(path)
        if not exclusive_write(path, case_text(case)):
            return False
        repo.remember_id(case.id)
    return True
