"""SNS's unsigned links: the SubscribeURL and UnsubscribeURL of its messages, and the signing certificate.

As on AWS, ``GET /?Action=ConfirmSubscription&TopicArn=..&Token=..`` confirms a pending subscription without a
signature (the token is the proof) and ``GET /?Action=Unsubscribe&SubscriptionArn=..`` unsubscribes; both answer
SNS's XML. Any other request for ``/`` goes to the console.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.errors import KilnError
from topics.selectors import subscription_get, topic_get
from topics.services import subscription_confirm, subscription_delete
from topics.signing import certificate_pem

_NS = "http://sns.amazonaws.com/doc/2010-03-31/"


def _xml(action: str, result: dict[str, str]) -> HttpResponse:
    root = ET.Element(f"{action}Response", xmlns=_NS)
    wrapper = ET.SubElement(root, f"{action}Result")
    for name, value in result.items():
        ET.SubElement(wrapper, name).text = value
    ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = "kiln"
    return HttpResponse(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root), content_type="text/xml")


def _error(error: KilnError) -> HttpResponse:
    root = ET.Element("ErrorResponse", xmlns=_NS)
    node = ET.SubElement(root, "Error")
    ET.SubElement(node, "Type").text = "Sender"
    ET.SubElement(node, "Code").text = error.code
    ET.SubElement(node, "Message").text = error.message
    ET.SubElement(root, "RequestId").text = "kiln"
    return HttpResponse(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root), status=error.status, content_type="text/xml")


def root(request: HttpRequest) -> HttpResponse:
    """``/``: SNS's unsigned confirm and unsubscribe links, else the console."""
    action = request.GET.get("Action", "")
    try:
        if action == "ConfirmSubscription":
            subscription = subscription_confirm(topic=topic_get(request.GET.get("TopicArn", "")), token=request.GET.get("Token", ""))
            return _xml(action, {"SubscriptionArn": subscription.arn})
        if action == "Unsubscribe":
            subscription_delete(subscription=subscription_get(request.GET.get("SubscriptionArn", "")))
            return _xml(action, {})
    except KilnError as error:
        return _error(error)
    return HttpResponseRedirect("/console/")


def certificate(request: HttpRequest) -> HttpResponse:
    """The certificate whose key signs every message (``SigningCertURL``)."""
    return HttpResponse(certificate_pem(), content_type="application/x-pem-file")
