"""On call: schedules, escalation policies, pages and the channels that reach people."""
