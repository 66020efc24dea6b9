"""``python -m autograd grad "x*y + sin(x)" --at x=1,y=2``: see autograd.cli."""

from .cli import main

raise SystemExit(main())
