"""Lambda@Edge package: token verification, session identity, feature flags. Standard library only."""
