"""Federated execution of a reactor program over processes (and hosts), coordinated by an RTI.

``Environment(federates=F)`` or ``Environment(federates=Federation(F, placement=..., transport=...))``
runs the same program federated; see README.md in the parent folder. Modules, each with one job:
``options`` (what the user chooses), ``structure`` (reports, stand-ins and the plan), ``graph`` and
``tags`` (the federate graph and delay arithmetic), ``rti`` (grants and stop agreement, no I/O),
``federate`` (the tag loop of one process), ``wiring`` (building it from a plan), ``coordinator``
(the RTI's process), ``node`` (a federate process), ``launch`` (starting one), ``wire`` (framing),
``codec`` and ``shm`` (values: pickle 5, shared memory), ``protocol`` (record codes), ``errors``.
"""

from .errors import FederateDied, FederateReactionFailed, FederationError, RemoteError
from .options import Federation

__all__ = ["FederateDied", "FederateReactionFailed", "Federation", "FederationError", "RemoteError"]
