"""User-facing text ships in English, Portuguese (pt-BR) and Spanish."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.accounts.factories import make_user, otp_login

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("language", ["pt_BR", "es"])
def test_every_message_is_translated(language):
    catalog = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert len(catalog) > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title"), [("pt-br", "Estado da frota"), ("es", "Estado de la flota")]
)
def test_status_page_renders_in_the_users_language(client, redis_client, language, title):
    otp_login(client, make_user("ops-translated", staff=True))
    response = client.get("/status", HTTP_ACCEPT_LANGUAGE=language)
    assert title in response.content.decode()
    translation.activate("en")
