"""What the read model consumes: every service topic (it publishes nothing). How each event
type moves the counters is declared with the indicators in indicators/."""

from readmodel_service.indicators import FOLDS
from relocation_shared.events import CATALOG

# Every topic in the catalog: the projects and community-work topics join as their services add events.
CONSUMED_TOPICS: list[str] = CATALOG.topics()

# Event types that move counters (others are still folded for names, households and the feed).
FOLDED_TYPES: list[str] = sorted(FOLDS)

PUBLISHES: tuple[type, ...] = ()
