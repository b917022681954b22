from reconciler.cli.main import console_script

raise SystemExit(console_script())
