"""Party organisations of a community (党总支, 党支部, 党小组), on whose behalf requests are rated."""
