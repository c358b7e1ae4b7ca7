"""The demo's inbox: a mail catcher (a real SMTP server) and a webhook receiver inside the
server, so that the demo's advisories are delivered somewhere and can be read, the way Mailpit
or MailHog show a developer what an application sent. On only with ``VULNOPS_DEMO_INBOX``
(``serve --demo`` turns it on); everything it receives is kept in the database."""
