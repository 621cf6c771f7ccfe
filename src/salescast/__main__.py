"""``python -m salescast`` runs the command line."""

from salescast.cli import app

if __name__ == "__main__":
    app(prog_name="salescast")
