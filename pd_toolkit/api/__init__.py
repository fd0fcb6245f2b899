"""The typed PagerDuty API layer between the client and everything that reads PagerDuty.

``core`` (:class:`PagerDutyAPI`: one method per read, the team scope applied once, the store
handle and per-API state with a lifetime) and ``shared`` (identical reads sent once, incidents
kept briefly). Dependencies point down: tools/history -> api -> store/directory/scope -> client.
"""

from pd_toolkit.api.core import OPEN_STATUSES, Page, PagerDutyAPI
from pd_toolkit.api.shared import SharedReads

__all__ = ["OPEN_STATUSES", "Page", "PagerDutyAPI", "SharedReads"]
