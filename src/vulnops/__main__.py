from vulnops.cli.main import app

app(prog_name="vulnops")
