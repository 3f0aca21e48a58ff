"""``python -m kitamono``: the same command as ``kitamono`` (git's merge driver runs it this way)."""

from kitamono.cli import main

if __name__ == "__main__":
    main()
