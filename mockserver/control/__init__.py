"""The control side: the `/_mock/` API, who may use it, and the dashboard."""
