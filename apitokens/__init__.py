"""The REST API's tokens, stored as digests only (``models.ApiToken``), issued and revoked by ``services``."""
