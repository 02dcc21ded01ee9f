"""``{% vendor_static "codemirror" %}``: the static URL of a vendored library (see ``console.vendor``)."""

from __future__ import annotations

from django import template
from django.templatetags.static import static

from console.vendor import vendor_path

register = template.Library()


@register.simple_tag
def vendor_static(name: str) -> str:
    return static(vendor_path(name))
