"""The AWS endpoint's fixtures (a live Kiln, the root key, boto3 clients) for the kiln command's tests."""

from tests.aws.conftest import endpoint, make_client, root, root_key  # noqa: F401
