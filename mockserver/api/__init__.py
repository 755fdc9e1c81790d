"""The HTTP side of the sandbox: routing, request parts, handlers, request validation."""
