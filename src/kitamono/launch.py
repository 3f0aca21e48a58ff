"""The ``kitamono`` command's entry point: a quick start for two commands, else the full command line.

``kitamono case list --count`` (alone or with ``--fy``) is what scripts and shell prompts run
over and over. It is answered here, from the index's digests, before the command-line framework
is imported: Typer loads pydantic to run any command, which alone costs more than the answer.

``kitamono web`` (with ``--port``, ``--host``, ``--open``) starts here too, by the same
functions the full command calls (``web.serve``): the server begins reading the cases while
the command line would still be loading, and a person waits less for the first page.

Everything else, and anything unusual about these commands (another option, ``--help``, a
value that does not read as a 年度 or a port, no repository, a port in use, any error before
the server starts), goes to the full command line, which answers it exactly as it always does::

    kitamono case list --count --fy 令和4年度     # answered here
    kitamono case list --count --status 支援中    # the full command line
    kitamono web --port 8471                      # started here
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
    if quick_web(sys.argv[1:]):
        return
    from kitamono.cli import main as full

    full()


def _repo_option(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """(--repo, the rest) of ``[--repo PATH] REST``, or None when ``--repo`` has no value."""
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
        if not repo:
            return None
    return repo, rest


def _count_options(argv: list[str]) -> tuple[str | None, str | None] | None:
    """(--repo, --fy) of ``[--repo PATH] case list --count [--fy FY]``, or None for anything else."""
    found = _repo_option(argv)
    if found is None:
        return None
    repo, rest = found
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
    if not counting or (fy is not None and fy.startswith("-")):
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
    for note in loaded.notes:
        _say(note)
    return f"{len(loaded) if fy is None else loaded.count_received_in(fy)}\n"


def _web_options(argv: list[str]) -> tuple[str | None, int, str, bool] | None:
    """(--repo, --port, --host, --open) of ``[--repo PATH] web [--port N] [--host H] [--open]``
    (each option once, with the command's defaults), or None for anything else."""
    found = _repo_option(argv)
    if found is None or found[1][:1] != ["web"]:
        return None
    repo, rest = found
    given: dict[str, str] = {}
    options = rest[1:]
    while options:
        option = options.pop(0)
        name, equals, value = option.partition("=")
        if name == "--open" and not equals and name not in given:
            given[name] = ""
        elif name in ("--port", "--host") and name not in given:
            if not equals:
                if not options:
                    return None
                value = options.pop(0)
            if not value or value.startswith("-"):
                return None
            given[name] = value
        else:
            return None
    from kitamono.web.addresses import DEFAULT_HOST, DEFAULT_PORT

    port_text = given.get("--port", str(DEFAULT_PORT))
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        return None
    return repo, int(port_text), given.get("--host", DEFAULT_HOST), "--open" in given


def quick_web(argv: list[str]) -> bool:
    """Serve ``kitamono web`` as the full command would, before the command-line framework
    loads; False (nothing done) to leave it to the full command line: anything unusual, no
    repository, or an address that cannot be taken (which the full command then explains)."""
    chosen = _web_options(argv)
    if chosen is None:
        return False
    repo_option, port, host, open_browser = chosen
    from pathlib import Path

    from kitamono.errors import KitamonoError
    from kitamono.failures import failure, one_line
    from kitamono.store import open_repository
    from kitamono.web.serve import listen, serve

    try:
        repo = open_repository(Path(repo_option) if repo_option is not None else None)
        listening = listen(host, port)
    except (KitamonoError, OSError):
        return False  # the full command line says what is wrong, in its own words
    try:
        serve(repo, listening, host, open_browser, tell=_say)
    except Exception as error:  # as the full command line ends: one line, exit 1
        line = one_line(error)
        if line is None:  # KITAMONO_DEBUG=1
            raise
        _say(failure(line))
        sys.exit(1)
    return True


def _say(message: str) -> None:
    """A line on stderr, as the full command line says it (text from a file sends no control character)."""
    from kitamono.controls import printable

    print(printable(message), file=sys.stderr, flush=True)
