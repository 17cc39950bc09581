"""``python -m newscrawl.cli``: the ``newscrawl`` command without installing the package."""

from newscrawl.cli.main import main

if __name__ == "__main__":
    main()
