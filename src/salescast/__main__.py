"""``python -m salescast`` runs the command line."""

from salescast.cli import app

app(prog_name="salescast")
