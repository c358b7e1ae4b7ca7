"""Post-incident reviews and program metrics: what every case teaches.

A review is written from the record (the case's milestones and event log, its blast radius and
rollouts, its advisory's reception, its root cause and variants, its bounty award) with the
sections only people can write, and action items tracked until done. Program metrics are
durations between named milestones (``measures.METRICS``), computed in SQL over every case the
viewer may see, and drawn as server-rendered SVG.
"""
