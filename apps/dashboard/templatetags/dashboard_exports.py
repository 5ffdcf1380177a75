from django import template

from apps.dashboard import exports

register = template.Library()


@register.simple_tag
def export_kinds() -> list[tuple[str, str]]:
    """(name, translated title) of each export the account page offers."""
    return [(kind.name, kind.title) for kind in exports.KINDS.values()]


@register.simple_tag
def export_formats() -> tuple[str, ...]:
    return exports.FORMATS
