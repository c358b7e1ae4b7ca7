"""The case file: one page (and its forms) showing what every domain knows about a case.

It sits above the domain packages — it reads cases, their reports, and (as they are built) the
fleet's blast radius, rollouts, notifications and disclosure — so that those domains need not know
about each other.
"""
