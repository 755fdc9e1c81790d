"""Webhook subscriptions, the deliveries made of them, and their sending."""
