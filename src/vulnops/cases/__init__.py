"""Cases: the unit of response — severity, deadlines, states, timeline."""
