"""HTTP middleware of the core app."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from . import correlation


class CorrelationIdMiddleware:
    """Binds a correlation id to the request's logs and echoes it in X-Request-ID."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _start(self, request) -> str:
        cid = correlation.new_correlation_id(request.headers.get(correlation.HEADER))
        request.correlation_id = cid
        correlation.bind(cid, path=request.path, method=request.method)
        return cid

    def __call__(self, request):
        if self._async:
            return self.__acall__(request)
        cid = self._start(request)
        try:
            response = self.get_response(request)
        finally:
            correlation.clear()
        response[correlation.HEADER] = cid
        return response

    async def __acall__(self, request):
        cid = self._start(request)
        try:
            response = await self.get_response(request)
        finally:
            correlation.clear()
        response[correlation.HEADER] = cid
        return response
