"""Market data read from the streams process: order-book liquidity."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Environment


class LiquidityQuerySerializer(serializers.Serializer):
    symbol = serializers.RegexField(
        r"^[A-Za-z0-9]{2,20}(,[A-Za-z0-9]{2,20}){0,49}$",
        help_text=_("One or more exchange symbols separated by commas, e.g. BTCUSDT,ETHUSDT."),
        error_messages={
            "invalid": _(
                "Must be up to 50 symbols of 2 to 20 letters or digits, separated by commas."
            )
        },
    )
    environment = serializers.ChoiceField(
        choices=Environment.choices,
        required=False,
        help_text=_("Whose streams to read; default: the streams process's environment."),
    )


class DepthSerializer(serializers.Serializer):
    bid_quote = serializers.CharField(help_text=_("Quote value of the bids within the band."))
    ask_quote = serializers.CharField(help_text=_("Quote value of the asks within the band."))


class LiquiditySerializer(serializers.Serializer):
    symbol = serializers.CharField()
    environment = serializers.CharField()
    best_bid = serializers.CharField()
    best_ask = serializers.CharField()
    mid = serializers.CharField()
    spread_bps = serializers.CharField(help_text=_("(ask - bid) / mid in basis points."))
    depth_10bps = DepthSerializer(help_text=_("Quote depth within 10 bps of the mid."))
    depth_50bps = DepthSerializer(help_text=_("Quote depth within 50 bps of the mid."))
    bids = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Best bid levels, [price, quantity], best first."),
    )
    asks = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Best ask levels, [price, quantity], best first."),
    )
    time_ms = serializers.IntegerField(help_text=_("Exchange time of the book's last update."))
    age_seconds = serializers.FloatField(help_text=_("Seconds since the summary was written."))
