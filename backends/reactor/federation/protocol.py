"""The records federates and the RTI exchange (tuples whose first item is one of these codes).

Every frame on a connection carries a list of records, so that what one step produces (a message, the
absent ports after it, a report) costs one write. Tags are ``(time, microstep)`` tuples.

Federate -> RTI
  REPORT (ltc, net, received)   latest tag complete (or None), next event tag (None: no event), and the
                                number of messages received so far (the RTI's in-flight accounting)
  MSG (entries, payload)        values: the payload pickles a list of them, each entry is (channel,
                                tag, position in the list); routed by channel, the payload shared
  ABSENT (channels, tag)        those channels carry nothing at ``tag`` (for provisional grants)
  STOP_REQUEST (tag)            asks to stop at ``tag``; STOP_REPLY (tag): a proposal when asked
  RELEASE (owner, names)        shared-memory segments no longer read here, for their owner
  FAILED (failure)              a reaction raised (after the federate's own shutdown reactions)
  BYE (stats)                   done; the federate waits for EXIT and then ends
RTI -> federate
  TAG (tag)                     may process every tag up to ``tag``
  PTAG (tag)                    may process ``tag`` provisionally: inputs from its cycle may still come
  MSG, ABSENT, RELEASE          forwarded
  STOP_REQUEST (tag)            asks for a proposal; STOP_GRANTED (tag): the common stop tag
  ABORT (reason)                another federate failed: run shutdown reactions and say BYE
  EXIT                          end now
Setup: BUILD (requests) -> BUILT (reports | failure); PLAN (plan) -> READY; START (wall-clock start)
"""

from __future__ import annotations

REPORT = 1
MSG = 2
ABSENT = 3
STOP_REQUEST = 4
STOP_REPLY = 5
RELEASE = 6
FAILED = 7
BYE = 8
TAG = 10
PTAG = 11
STOP_GRANTED = 12
ABORT = 13
EXIT = 14
BUILD = 20
BUILT = 21
PLAN = 22
READY = 23
START = 24
