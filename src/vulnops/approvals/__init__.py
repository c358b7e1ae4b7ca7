"""Four eyes: a step asked for by one person and approved (or rejected) by another."""
