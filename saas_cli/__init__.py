"""The `saas` operator and developer command line."""
