"""The escalation queue's rules (states, priorities) and its use cases for agents."""
