"""``python -m backends.reactor.federation``: run one federate (see node.command_main)."""

from .node import command_main

raise SystemExit(command_main())
