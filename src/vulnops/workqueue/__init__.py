"""Each role's home page: a work queue of what needs this person now, counted in SQL."""
