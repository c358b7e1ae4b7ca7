"""Disclosure: the CVE decision of a case, its CVE record and CSAF advisory, publishing.

It sits above cases, fleet and notify: nothing about a case goes public before its customers were
told (``notify.service.check_notified``).
"""
