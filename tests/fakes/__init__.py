"""In-memory fakes of the repositories and the unit of work, one per repository Protocol."""
