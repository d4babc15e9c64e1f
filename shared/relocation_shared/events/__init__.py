"""Events: the envelope, the catalog, and every service's payload models.

Importing this package registers every payload model in `CATALOG`.
"""

from relocation_shared.events import community as community
from relocation_shared.events import disputes as disputes
from relocation_shared.events import employment, governance
from relocation_shared.events import notifications as notifications
from relocation_shared.events import projects as projects
from relocation_shared.events import requests as requests
from relocation_shared.events.catalog import CATALOG
from relocation_shared.events.envelope import Catalog, Envelope, EventPayload, InvalidEvent

__all__ = ["CATALOG", "Catalog", "Envelope", "EventPayload", "InvalidEvent", "employment", "governance"]
