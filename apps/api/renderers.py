"""The API's JSON renderer: DRF's output, written by orjson.

DRF's renderer encodes with the standard library's `json` and its encoder class, which
is 6% of an API list request's CPU (a page of 50 rows is some 1,300 values); orjson
writes the same document about ten times faster. Whatever orjson would write
differently is handed to DRF's own encoder (datetimes, dates and times, dataclasses,
Decimals, lazy strings, anything unusual), and anything orjson refuses (keys that are
not strings, integers beyond 64 bits) is rendered by DRF's renderer itself, so the
output is DRF's: `tests/api/test_renderers.py` compares them. Two differences: a float
may be written in another form of the same number (1e-08 as 1e-8), and one that is not
a number (NaN, infinity) becomes null instead of failing the response.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# DRF escapes these two so that its JSON is also valid JavaScript.
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class FastJSONRenderer(JSONRenderer):
    def writes_with_orjson(self, accepted_media_type, renderer_context=None) -> bool:
        """Whether this response is written by orjson (compact, UTF-8, no indent), the
        only writer that takes pre-rendered JSON (`orjson.Fragment`)."""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        return indent is None and self.compact and not self.ensure_ascii

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if not self.writes_with_orjson(accepted_media_type, renderer_context):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in rendered:
            for raw, escaped in _LINE_SEPARATORS:
                rendered = rendered.replace(raw, escaped)
        return rendered
