"""Confidential customer notification: advisories drafted per case, approved by communications,
sent to the case's affected tenants over the portal, email and signed webhooks.

It sits above cases, fleet, tenants and rollout (it reads the blast radius and the rollout to say
which of a customer's resources were exposed and until when). Sending the first version records
the case's ``customers_notified`` milestone, which the disclosure rules ask for.
"""
