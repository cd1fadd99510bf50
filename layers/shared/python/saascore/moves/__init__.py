"""Moving a tenant between cells: freeze, copy, verify, flip, delete the source (decision 0141)."""
