"""The ``kitamono`` command's entry point: one quick answer, else the full command line.

``kitamono case list --count`` (alone or with ``--fy``) is what scripts and shell prompts run
over and over. It is answered here, from the index's digests, before the command-line framework
is imported: Typer loads pydantic to run any command, which alone costs more than the answer.
Everything else, and anything unusual about this command (another option, ``--help``, a value
that does not read as a 年度, no repository, any error), goes to the full command line, which
answers it exactly as it always does::

    kitamono case list --count --fy 令和4年度     # answered here
    kitamono case list --count --status 支援中    # the full command line
"""

from __future__ import annotations

import sys


def main() -> None:
    # A command runs for a moment and makes up to millions of small tuples (cases, events, table
    # cells) and next to no reference cycles: each collection would scan all of them again. On
    # 10,000 cases, warm, collection on costs case list --fy 1.1x, report annual 1.2x, check 1.3x
    # and followups 1.65x (medians of 7, interleaved), more than the index's own pauses save.
    # Objects are still freed as soon as they are unused; the core used as a library is unaffected.
    import gc

    gc.disable()
    answer = quick_count(sys.argv[1:])
    if answer is not None:
        sys.stdout.write(answer)
        return
    from kitamono.cli import main as full

    full()


def _count_options(argv: list[str]) -> tuple[str | None, str | None] | None:
    """(--repo, --fy) of ``[--repo PATH] case list --count [--fy FY]``, or None for anything else."""
    repo: str | None = None
    rest = list(argv)
    if rest and (rest[0] == "--repo" or rest[0].startswith("--repo=")):
        option = rest.pop(0)
        if option == "--repo":
            if not rest:
                return None
            repo = rest.pop(0)
        else:
            repo = option.removeprefix("--repo=")
    if rest[:2] != ["case", "list"]:
        return None
    fy: str | None = None
    counting = False
    options = rest[2:]
    while options:
        option = options.pop(0)
        if option == "--count":
            counting = True
        elif option == "--fy" and options and fy is None:
            fy = options.pop(0)
        elif option.startswith("--fy=") and fy is None:
            fy = option.removeprefix("--fy=")
        else:
            return None
    if not counting or (repo is not None and not repo) or (fy is not None and fy.startswith("-")):
        return None
    return repo, fy


def quick_count(argv: list[str]) -> str | None:
    """The output of ``kitamono case list --count [--fy FY]``, or None to leave it to the full CLI.

    Messages about the index go to stderr as the full command writes them; a damaged case file
    is left to the full command line, which refuses to count without it.
    """
    chosen = _count_options(argv)
    if chosen is None:
        return None
    repo_option, fy_text = chosen
    from pathlib import Path

    from kitamono import index
    from kitamono.errors import KitamonoError
    from kitamono.store import open_repository

    try:
        fy = None
        if fy_text is not None:
            from kitamono.fiscal import parse_fiscal_year

            fy = parse_fiscal_year(fy_text)
        repo = open_repository(Path(repo_option) if repo_option is not None else None)
        loaded = index.load_cases(repo, use_index=index.enabled())
    except (KitamonoError, OSError):
        return None  # the full command line says what is wrong, in its own words
    if loaded.clashes() or loaded.problems:
        return None  # ambiguous ids or a damaged file: the full command line refuses to count
    from kitamono.controls import printable

    for note in loaded.notes:
        print(printable(note), file=sys.stderr)
    return f"{len(loaded) if fy is None else loaded.count_received_in(fy)}\n"
