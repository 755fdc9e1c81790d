"""Where the sandbox's state lives."""
