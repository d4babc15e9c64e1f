"""What officials read: views with targets and gaps, as-of and trends, the zero-employment
list, the feed, the live stream and their HTTP routes."""
