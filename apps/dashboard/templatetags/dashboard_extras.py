"""Template tags of the dashboard extras (layout, tour, voice, web app)."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.dashboard import preferences

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_prefs(context) -> dict:
    """The signed-in user's saved layout and whether the tour is still to be shown."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        prefs = {"layout": {"order": [], "hidden": []}, "tour_pending": False}
    else:
        prefs = preferences.preferences_for(user)
    prefs["urls"] = {
        "layout": reverse("dashboard:layout"),
        "tour": reverse("dashboard:tour"),
        "service_worker": reverse("dashboard:service_worker"),
        "scope": reverse("dashboard:overview"),
    }
    return prefs


@register.simple_tag
def extras_strings() -> dict:
    """The words voice.js, widgets.js, tour.js and pwa.js write, translated here."""
    return {
        "voice_listening": _("Listening… say pause, resume or status."),
        "voice_unknown": _("Not a voice command:"),
        "voice_unavailable": _("That control is not available for this account now."),
        "voice_status": _("Account status:"),
        "voice_error": _("Voice recognition failed:"),
        "customize": _("Customize layout"),
        "customize_done": _("Done customizing"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "hide": _("Hide"),
        "show": _("Show"),
        "hidden_widgets": _("Hidden sections:"),
        "layout_saved": _("Layout saved."),
        "layout_failed": _("The layout could not be saved:"),
        "tour_next": _("Next"),
        "tour_done": _("Finish"),
        "tour_skip": _("Skip the tour"),
        "tour_step": _("Step"),
        "tour_of": _("of"),
    }


@register.simple_tag
def tour_steps() -> list[dict]:
    """The onboarding tour: each step points at the first element its selector finds
    (steps whose element is not on the page are skipped)."""
    return [
        {
            "target": "#nav-overview",
            "title": _("Overview"),
            "text": _(
                "All the accounts you may see, with their status, equity and today's PnL, "
                "kept current live."
            ),
        },
        {
            "target": "#live-state",
            "title": _("Live updates"),
            "text": _(
                "Orders, fills and positions arrive without a reload; this shows whether "
                "the connection is live."
            ),
        },
        {
            "target": "#controls, #accounts, #no-accounts",
            "title": _("Your accounts"),
            "text": _(
                "Open an account to see its charts, positions and decisions, and to pause, "
                "resume or halt it (always asked first)."
            ),
        },
        {
            "target": "#theme-toggle",
            "title": _("Theme and language"),
            "text": _("Switch dark mode and the language here; both are remembered."),
        },
        {
            "target": "#help-toggle",
            "title": _("Shortcuts and help"),
            "text": _("Press ? for the keyboard shortcuts. This tour can be restarted from there."),
        },
    ]
