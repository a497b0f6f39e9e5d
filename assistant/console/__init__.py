"""The agents' web console: server-rendered pages over the same desk the agent API uses."""
