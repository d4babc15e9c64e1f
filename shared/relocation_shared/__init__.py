"""Common library of the relocation follow-up support platform (易地搬迁后续扶持).

Events and their catalog, the transactional outbox and its relay, the consumer base,
settings, logging with personal-data masking, auth, and the web plumbing every service shares.
"""
