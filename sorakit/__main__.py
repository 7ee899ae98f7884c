"""`python -m sorakit ...`: the `sorakit` command (what `accelerate launch -m sorakit ...` runs)."""
import sys

from .cli import main

sys.exit(main())
