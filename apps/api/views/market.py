"""Order-book liquidity per symbol, as the streams process last summarised it. Market
data is public: any signed-in member may read it; nothing here belongs to a tenant."""

import time

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from apps.marketdata import conf
from apps.marketdata.selectors import liquidity_summary

from ..serializers.market import LiquidityQuerySerializer, LiquiditySerializer
from .base import ApiViewMixin


class LiquidityViewSet(ApiViewMixin, viewsets.ViewSet):
    """Best bid and ask, spread, depth near the mid and the top levels of symbols."""

    @extend_schema(parameters=[LiquidityQuerySerializer], responses=LiquiditySerializer(many=True))
    def list(self, request):
        """The summaries of the symbols asked for (`?symbol=BTCUSDT,ETHUSDT`), in that
        order; a symbol without a fresh summary is left out (not paginated)."""
        query = LiquidityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        environment = query.validated_data.get("environment") or conf.streams_environment()
        symbols = dict.fromkeys(s.upper() for s in query.validated_data["symbol"].split(","))
        now, rows = time.time(), []
        for symbol in symbols:
            summary = liquidity_summary(environment=environment, symbol=symbol)
            if summary is not None:
                age = round(max(0.0, now - summary.published_at), 3)
                rows.append({**summary.data, "environment": environment, "age_seconds": age})
        return Response(LiquiditySerializer(rows, many=True).data)
