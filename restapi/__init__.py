"""The REST API's shared wire format (errors), used by every app's ``api.py`` and the console's JSON views."""
