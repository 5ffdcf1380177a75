"""The tenancy sweep (tests/security) finds API routes through the URL resolver; this
makes sure it sees every one of them, so none escapes it."""

from apps.api.routes import build_router
from tests.security.tenancy import named_routes


def test_every_api_route_is_named_and_discovered_by_the_sweep():
    discovered = {name for name, _params in named_routes()}
    routed = {f"api:{url.name}" for url in build_router().urls}
    assert routed
    assert routed <= discovered, routed - discovered
    assert {"api:schema", "api:docs"} <= discovered
    detail = [name for name, params in named_routes() if name.startswith("api:") and params]
    assert "api:exchange-account-kill" in detail
    assert "api:token-revoke" in detail
