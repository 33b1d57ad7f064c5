"""``python -m lommebok`` is the ``lommebok`` command."""

from lommebok.cli import main

main()
