"""``python -m plait``: the same as the ``plait`` command."""

from .cli import main

main(prog_name="plait")
