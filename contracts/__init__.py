"""The verification side: the OpenAPI contract, lifecycle data and the checks."""
