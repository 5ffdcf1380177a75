"""Built-in strategies; importing this package registers them."""

from .breakout import DonchianBreakout
from .dca import DCAAccumulator
from .mean_reversion import RsiBollingerReversion
from .trend_following import EmaCrossTrend

__all__ = ["DCAAccumulator", "DonchianBreakout", "EmaCrossTrend", "RsiBollingerReversion"]
