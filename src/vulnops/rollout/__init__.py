"""Safe rollout: a fix deployed stage by stage to every unit of its service, each stage held by a
sequential health gate, rolled back by itself when the gate fails."""
