"""Kafka topic names: one per service, plus the dead-letter topic."""

GOVERNANCE = "relocation.governance"
EMPLOYMENT = "relocation.employment"
DEAD_LETTER = "relocation.deadletter"
PROJECTS = "relocation.projects"
NOTIFICATIONS = "relocation.notifications"
