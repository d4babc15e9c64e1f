"""The platform's one event catalog instance. Payload modules register into it on import."""

from relocation_shared.events.envelope import Catalog

CATALOG = Catalog()
