"""What the governance service publishes (topic relocation.governance) and consumes.

Every registry event is keyed by the household id, so a household's registration and its
residents' changes reach consumers in order."""

from relocation_shared.events.governance import (
    AreaRegistered,
    HouseholdRegistered,
    ResidentMovedOut,
    ResidentRegistered,
    ResidentUpdated,
)
from relocation_shared.topics import GOVERNANCE

TOPIC = GOVERNANCE

PUBLISHES = (AreaRegistered, HouseholdRegistered, ResidentRegistered, ResidentUpdated, ResidentMovedOut)

# The registry is the source of these facts; it consumes nothing yet.
CONSUMES: tuple[type, ...] = ()
