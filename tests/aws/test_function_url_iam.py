"""Function URLs with AuthType AWS_IAM: SigV4-signed calls (botocore's signer) decided by lambda:InvokeFunctionUrl."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from iam.credentials import access_key_create
from iam.users import user_create, user_policy_put


def _call(url: str, key: tuple[str, str] | None, body: bytes = b'{"hi": 1}') -> tuple[int, bytes]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    if key:
        SigV4Auth(Credentials(*key), "lambda", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_signed_calls_are_decided_by_iam(api: Any, make_function: Any, endpoint: str, root_key: tuple[str, str], worker: Any, transactional_db: None) -> None:
    make_function("private-url")
    url = api.put("/api/v1/functions/private-url/url/", {"auth_type": "AWS_IAM"}, format="json").json()
    target = f"{endpoint}/url/{url['url_id']}/orders"
    assert _call(target, None)[0] == 403
    status, body = _call(target, root_key)
    assert status == 200 and json.loads(body)["rawPath"] == "/orders"
    assert _call(target, (root_key[0], "x" * 40))[0] == 403  # a wrong secret
    user = user_create(name="url-caller")
    issued = access_key_create(user=user)
    caller = (issued.key.access_key_id, issued.secret)
    assert _call(target, caller)[0] == 403  # no policy allows it yet
    user_policy_put(user=user, name="url", document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:private-url",
         "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}}]})
    assert _call(target, caller)[0] == 200
