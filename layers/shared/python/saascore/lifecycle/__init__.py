"""Tenant lifecycle: the states, the transitions between them and who may drive them (decision 0110)."""
