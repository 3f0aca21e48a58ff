"""``python -m kitamono``: the same command as ``kitamono`` (git's merge driver runs it this way)."""

from kitamono.launch import main

if __name__ == "__main__":
    main()
