"""The endpoint issue's image-resize example: Pillow from a layer, an upload in, a thumbnail out.

The layer is built as a Lambda user builds one (``pip install pillow -t python/`` and zip it): here from the
files of the Pillow distribution installed beside the tests (requirements-dev.txt), compiled for the same
Python 3.11 as the function's runtime. The function reads the uploaded image with boto3 (its role allows
``s3:GetObject`` on the upload bucket and ``s3:PutObject`` on the thumbnails bucket, nothing else) and
writes a PNG thumbnail; the test opens it.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from importlib import metadata
from typing import Any

import pytest
from PIL import Image  # a test dependency (requirements-dev.txt): the layer is built from it

from iam.models import Role
from invoker.models import InvocationStatus
from tests.aws.conftest import wait_invocation

RESIZE = """\
import io
from urllib.parse import unquote_plus

import boto3
from PIL import Image

s3 = boto3.client('s3')


def handler(event, context):
    record = event['Records'][0]['s3']
    bucket, key = record['bucket']['name'], unquote_plus(record['object']['key'])
    image = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)['Body'].read()))
    image.thumbnail((128, 128))
    out = io.BytesIO()
    image.save(out, format='PNG')
    name = 'thumb-' + key.rsplit('/', 1)[-1].rsplit('.', 1)[0] + '.png'
    s3.put_object(Bucket='thumbnails', Key=name, Body=out.getvalue(), ContentType='image/png')
    return {'thumbnail': name, 'size': list(image.size), 'pillow': Image.__version__}
"""


@pytest.fixture
def endpoint(kiln_web: str) -> str:  # boto3 inside the function reaches this server through AWS_ENDPOINT_URL
    return kiln_web


def _pillow_layer() -> str:
    """The installed Pillow's files under ``python/``, zipped: base64."""
    distribution = metadata.distribution("pillow")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in distribution.files or []:
            path = file.locate()
            if path.is_file() and not str(file).startswith(("..", "/")) and "__pycache__" not in str(file):
                archive.write(path, f"python/{file}")
    return base64.b64encode(buffer.getvalue()).decode()


def test_an_upload_is_resized_by_pillow_from_a_layer_into_another_bucket(api: Any, worker: Any, root: Any, transactional_db: None) -> None:
    layer = api.post("/api/v1/layers/", {"name": "pillow", "zip_base64": _pillow_layer(), "compatible_runtimes": ["python3.11"]}, format="json")
    assert layer.status_code == 201, layer.content
    Role.objects.create(name="resizer", policy_document={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uploads/*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::thumbnails/*"}]})
    body = {"name": "resize", "runtime": "python3.11", "handler": "app.handler", "code": {"files": {"app.py": RESIZE}}, "role": "resizer",
            "layers": [layer.json()["arn"]], "memory_size": 256, "timeout": 30}
    response = api.post("/api/v1/functions/", body, format="json")
    assert response.status_code == 201, response.content
    s3 = root("s3")
    s3.create_bucket(Bucket="uploads")
    s3.create_bucket(Bucket="thumbnails")
    configs = [{"id": "images", "events": ["s3:ObjectCreated:*"], "filter": {"prefix": "photos/"}, "function": "resize"}]
    assert api.put("/api/v1/buckets/uploads/notifications/", configs, format="json").status_code == 200

    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 20)).save(photo, format="JPEG")
    s3.put_object(Bucket="uploads", Key="photos/sunset one.jpg", Body=photo.getvalue(), ContentType="image/jpeg")

    invocation = wait_invocation({"function_name": "resize"}, seconds=120)
    assert invocation.status == InvocationStatus.SUCCEEDED, invocation.logs
    result = json.loads(invocation.result)
    assert result["thumbnail"] == "thumb-sunset one.png" and result["size"] == [128, 96]
    assert result["pillow"] == metadata.version("pillow")  # the layer's Pillow: the runtime has none of its own
    thumbnail = s3.get_object(Bucket="thumbnails", Key="thumb-sunset one.png")
    assert thumbnail["ContentType"] == "image/png"
    opened = Image.open(io.BytesIO(thumbnail["Body"].read()))
    assert opened.format == "PNG" and opened.size == (128, 96)
    red, green, blue = opened.getpixel((64, 48))[:3]
    assert max(abs(red - 200), abs(green - 80), abs(blue - 20)) <= 6  # the photo's colour, through JPEG
