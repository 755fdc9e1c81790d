"""The sandbox mock server of the OTA Channel Manager Orders API."""
