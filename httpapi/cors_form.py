"""CORS settings as form fields for the console (HTTP APIs and function URLs), with the JSON kept as a view.

The fields are the source of a save unless the person edited the JSON, which then wins; either way the
result goes through ``httpapi.services.cors_validate``, so the console and the REST API accept the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from core.errors import KilnError
from httpapi import services

CORS_FIELDS = ["cors_allow_origins", "cors_allow_methods", "cors_allow_headers", "cors_expose_headers", "cors_max_age", "cors_allow_credentials", "cors"]
_SPLIT = re.compile(r"[\s,]+")


def _listed(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text or "") if part]


class CorsFormMixin(forms.ModelForm):
    """Adds the CORS fields; the model's ``cors`` JSON field stays on the form as the JSON view."""

    cors_allow_origins = forms.CharField(label="Allowed origins", required=False, widget=forms.TextInput(attrs={"size": 60}), help_text="Comma- or space-separated, e.g. https://example.com or *")
    cors_allow_methods = forms.MultipleChoiceField(label="Allowed methods", required=False, widget=forms.CheckboxSelectMultiple, choices=[("*", "*")] + [(m, m) for m in services.METHODS[1:]])
    cors_allow_headers = forms.CharField(label="Allowed headers", required=False, widget=forms.TextInput(attrs={"size": 60}), help_text="e.g. content-type, authorization")
    cors_expose_headers = forms.CharField(label="Exposed headers", required=False, widget=forms.TextInput(attrs={"size": 60}))
    cors_max_age = forms.IntegerField(label="Max age (s)", required=False, min_value=0, max_value=services.CORS_MAX_AGE_MAX)
    cors_allow_credentials = forms.BooleanField(label="Allow credentials", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cors = (self.instance.cors if self.instance and self.instance.pk else None) or {}
        self.fields["cors_allow_origins"].initial = ", ".join(cors.get("allowOrigins", []))
        self.fields["cors_allow_methods"].initial = cors.get("allowMethods", [])
        self.fields["cors_allow_headers"].initial = ", ".join(cors.get("allowHeaders", []))
        self.fields["cors_expose_headers"].initial = ", ".join(cors.get("exposeHeaders", []))
        self.fields["cors_max_age"].initial = cors.get("maxAge")
        self.fields["cors_allow_credentials"].initial = bool(cors.get("allowCredentials"))
        self.fields["cors"].label = "CORS as JSON"
        self.fields["cors"].help_text = "The same settings as JSON. Leave it as it is to save the fields above; edit it to set everything at once."

    def _from_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for key, name in (("allowOrigins", "cors_allow_origins"), ("allowHeaders", "cors_allow_headers"), ("exposeHeaders", "cors_expose_headers")):
            if _listed(data.get(name, "")):
                out[key] = _listed(data[name])
        if data.get("cors_allow_methods"):
            out["allowMethods"] = list(data["cors_allow_methods"])
        if data.get("cors_max_age") is not None:
            out["maxAge"] = data["cors_max_age"]
        if data.get("cors_allow_credentials"):
            out["allowCredentials"] = True
        return out

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns (typed as optional, for overrides that return None)
        initial = self.instance.cors if self.instance and self.instance.pk else None
        edited_json = "cors" in self.changed_data and json.dumps(data.get("cors"), sort_keys=True) != json.dumps(initial, sort_keys=True)
        chosen = data.get("cors") if edited_json else self._from_fields()
        try:
            data["cors"] = services.cors_validate(chosen)
        except KilnError as exc:
            self.add_error("cors" if edited_json else None, exc.message)
        return data
