"""Any path under /api/ that names no route: a 404 in the API's error shape, not HTML."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from ..errors import body


@csrf_exempt  # it changes nothing; a CSRF refusal would answer in HTML
def not_found(request, *args, **kwargs):
    return JsonResponse(body("not_found", _("No API route matches this path.")), status=404)
