"""The fleet simulator: units with realistic traffic, errors and latency, releases that may carry
a fault. It is the ``simulated`` deployment backend and health source of the controller (in real
time, accelerated, for the demo) and, in virtual time, the rollout benchmark."""
