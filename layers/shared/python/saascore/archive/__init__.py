"""Tenant archives: one portable, versioned zip of a tenant's data, written and restored streaming
(decision 0111). The format is in ``format``; ``export`` writes one, ``restore`` loads one."""
