"""The ``kiln`` command: deploy a directory as a function's code, invoke it, read its logs.

A client of Kiln's AWS-compatible endpoint (the Lambda and CloudWatch Logs APIs through boto3, with the
user's access key); it imports no Kiln app and runs on any machine that reaches the endpoint.
"""

__version__ = "0.1.0"
