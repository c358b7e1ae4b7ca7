"""Disclosure: the public text of a case, its CVE decision, CVE record and CSAF advisory,
publishing, and the rules that guard what becomes public (``rules.py``).

It sits above cases, fleet and notify: nothing about a case goes public before its customers were
told (the ``customers_notified`` milestone).
"""
