"""The rollout policies vulnops is measured against, each from its public description."""
