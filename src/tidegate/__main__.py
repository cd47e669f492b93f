"""`python -m tidegate` runs the command-line interface."""

from tidegate.cli.main import main

raise SystemExit(main())
