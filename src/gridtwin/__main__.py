from gridtwin.cli import app

app()
