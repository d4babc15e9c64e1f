"""Folding events into the views: the plan of a batch, the seen-id filter, the prefetcher, the
transaction that writes a batch once, and the live consumer."""
