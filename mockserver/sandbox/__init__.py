"""The sandbox's rules and records: the backend, lifecycle, issuance, catalog, models and clock. No HTTP here."""
